import { describe, expect, it } from 'vitest';
import { apiKeyFor, DEV_KEY, MIX_PRIORITIES, MIXES } from '../../loadtests/mixes.ts';
import { Clients, DEV_CLIENT_KEY, MissingClientKey } from './clients.ts';

describe('Clients', () => {
  it('accepts only the dev keys when nothing is configured, one per priority', () => {
    const clients = new Clients();
    expect(clients.devMode).toBe(true);
    expect(clients.identify(`Bearer ${DEV_CLIENT_KEY}`)).toMatchObject({ name: 'dev', priority: 'normal' });
    for (const p of ['critical', 'high', 'low'] as const) expect(clients.identify(`Bearer ${DEV_CLIENT_KEY}-${p}`)).toMatchObject({ name: `dev-${p}`, priority: p });
    expect(clients.identify(`Bearer ${DEV_CLIENT_KEY}-normal`)).toBeUndefined();
    expect(clients.identify('Bearer sk-other')).toBeUndefined();
    expect(clients.identify(DEV_CLIENT_KEY)).toBeUndefined();
  });

  it("names the same dev keys a load test's mix sends per priority", () => {
    const clients = new Clients();
    for (const p of MIX_PRIORITIES) expect(clients.identify(`Bearer ${apiKeyFor({ ...MIXES.single!.classes[0]!, priority: p }, { key: DEV_KEY })}`)?.priority).toBe(p);
    expect(DEV_KEY).toBe(DEV_CLIENT_KEY);
  });

  it('is not in dev mode when one configured client happens to use the dev key', () => {
    expect(new Clients([{ name: 'dev', key: DEV_CLIENT_KEY, priority: 'normal' }]).devMode).toBe(false);
  });

  it('maps configured keys (inline or from the environment) to names and priorities', () => {
    const clients = new Clients(
      [
        { name: 'web', key: 'sk-web-12345', priority: 'high' },
        { name: 'batch', keyEnv: 'BATCH_KEY', priority: 'low' },
      ],
      { BATCH_KEY: 'sk-batch-abcdef' },
    );
    expect(clients.devMode).toBe(false);
    expect(clients.identify('Bearer sk-web-12345')).toMatchObject({ name: 'web', priority: 'high' });
    expect(clients.identify('Bearer sk-batch-abcdef')).toMatchObject({ name: 'batch', priority: 'low' });
    expect(clients.identify(`Bearer ${DEV_CLIENT_KEY}`)).toBeUndefined();
  });

  it('refuses to start when a keyEnv variable is unset, naming it', () => {
    expect(() => new Clients([{ name: 'batch', keyEnv: 'NOPE_KEY', priority: 'normal' }], {})).toThrow(MissingClientKey);
    expect(() => new Clients([{ name: 'batch', keyEnv: 'NOPE_KEY', priority: 'normal' }], {})).toThrow(/`NOPE_KEY`.*`batch`/);
  });

  it('spends a quota of images per period and refills it evenly', () => {
    const t0 = 1_000_000;
    const clients = new Clients([{ name: 'q', key: 'sk-quota-1234', priority: 'normal', quota: { images: 10, period: 60_000 } }], {}, t0);
    const client = clients.identify('Bearer sk-quota-1234')!;
    expect(clients.takeQuota(client, 4, t0)).toBe(0);
    expect(clients.takeQuota(client, 6, t0)).toBe(0);
    const wait = clients.takeQuota(client, 1, t0);
    expect(wait).toBeCloseTo(6_000, 6); // one image refills in period / images
    expect(clients.takeQuota(client, 1, t0 + wait)).toBe(0);
    expect(clients.takeQuota(client, 11, t0 + 3_600_000)).toBe(Infinity); // more than the whole quota
  });

  it('refuses keys from the environment that repeat, naming both clients and never the key', () => {
    const env = { WEB_KEY: 'sk-env-repeated-9', BATCH_KEY: 'sk-env-repeated-9' };
    const make = () => new Clients([{ name: 'web', keyEnv: 'WEB_KEY', priority: 'high' }, { name: 'batch', keyEnv: 'BATCH_KEY', priority: 'low' }], env);
    expect(make).toThrow('Expected every client to have its own key, got the same key for `web` (clients.0) and `batch` (clients.1)');
    expect(make).not.toThrow(/sk-env-repeated-9/);
  });
});
