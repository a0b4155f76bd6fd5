import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import { catalogueOf, loadProfile } from '../profiles/index.ts';
import type { Profile } from '../profiles/schema.ts';
import { Accounts, limitPlan, orgIdFor, parseKey } from './accounts.ts';

const accountsOf = (profile: Profile, clock: VirtualClock, max?: number) => new Accounts(profile, clock, limitPlan(profile, catalogueOf(profile).factsFor(profile.defaultModel)), max);
const model = (id: string, profile = loadProfile('openai')) => catalogueOf(profile).get(id)!;

describe('parseKey', () => {
  it.each([
    ['sk-tier1-alice', { tier: 1, verified: true }],
    ['sk-tier0-free', { tier: 0, verified: true }],
    ['sk-tier5-x', { tier: 5, verified: true }],
    ['sk-unverified-bob', { tier: 1, verified: false }],
    ['sk-tier1-', undefined],
    ['sk-proj-abc', undefined],
    ['tier1-x', undefined],
  ])('%s', (key, identity) => {
    expect(parseKey(key)).toEqual(identity);
  });

  it('derives an org id that does not contain the key', () => {
    const org = orgIdFor('sk-tier1-secret');
    expect(org).toMatch(/^org-[0-9a-f]{24}$/);
    expect(org).not.toContain('secret');
    expect(orgIdFor('sk-tier1-secret')).toBe(org);
  });
});

describe('Accounts', () => {
  it('gives tiers their limits and no access to free, unlisted and unverified', () => {
    const accounts = accountsOf(loadProfile('openai'), new VirtualClock(0));
    const m = model('gpt-image-2');
    expect(accounts.get('sk-tier1-a')!.limitsFor(m, 0)).toBeDefined();
    expect(accounts.get('sk-tier0-a')!.limitsFor(m, 0)).toBeUndefined();
    expect(accounts.get('sk-tier9-a')!.limitsFor(m, 0)).toBeUndefined();
    expect(accounts.get('sk-unverified-a')!.limitsFor(m, 0)).toBeUndefined();
    expect(accounts.get('nope')).toBeUndefined();
  });

  it('keeps one bucket per model family (snapshots share theirs), or one for all with bucket: shared', () => {
    const account = accountsOf(loadProfile('openai'), new VirtualClock(0)).get('sk-tier1-a')!;
    const two = account.limitsFor(model('gpt-image-2'), 0)!;
    expect(account.limitsFor(model('gpt-image-2-2026-04-21'), 0)).toBe(two);
    expect(account.limitsFor(model('gpt-image-2.5-flare'), 0)).not.toBe(two);
    const shared = loadProfile('openai', { limits: { bucket: 'shared' } });
    const one = accountsOf(shared, new VirtualClock(0)).get('sk-tier1-a')!;
    expect(one.limitsFor(model('gpt-image-2', shared), 0)).toBe(one.limitsFor(model('gpt-image-2.5-flare', shared), 0));
  });

  it('applies the profile upgrade after its delay, from first use', async () => {
    const clock = new VirtualClock(0);
    const profile = loadProfile('openai', { upgrades: [{ fromTier: 1, toTier: 2, after: '36h' }] });
    const accounts = accountsOf(profile, clock);
    const account = accounts.get('sk-tier1-a')!;
    const limits = account.limitsFor(model('gpt-image-1.5', profile), 0)!;
    await clock.advance(36 * 3600_000 - 1);
    expect(account.tier).toBe(1);
    await clock.advance(1);
    expect(account.tier).toBe(2);
    expect(limits.remaining(clock.now())).toMatchObject({ ipm: 20 });
    expect(account.limitsFor(model('gpt-image-1.5', profile), clock.now())).toBe(limits);
  });

  it('stays bounded under many keys', () => {
    const accounts = accountsOf(loadProfile('openai'), new VirtualClock(0), 100);
    for (let i = 0; i < 1000; i++) accounts.get(`sk-tier1-${i}`);
    expect(accounts.all()).toHaveLength(100);
    expect(accounts.findByOrg(orgIdFor('sk-tier1-999'))).toBeDefined();
    expect(accounts.findByOrg(orgIdFor('sk-tier1-0'))).toBeUndefined();
  });
});
