import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import { parseLimiterConfig } from '../limiter/config.ts';
import { Upstreams } from './upstreams.ts';

const cost = { rpm: 1, ipm: 1, tpm: 300 };

function two(limitA: number, limitB: number) {
  const clock = new VirtualClock();
  const spec = (name: string, ipm: number) => ({ name, baseURL: `http://127.0.0.1:1/${name}/`, key: `sk-${name}-key`, limiter: parseLimiterConfig({ budgets: { ipm: { limit: ipm } }, circuit: { minimumRequests: 2, window: 2, openFor: '1m' }, retry: { maxAttempts: 1 } }) });
  const upstreams = new Upstreams([spec('a', limitA), spec('b', limitB)], { registry: new Registry(), timeScale: 1, clock });
  return { clock, upstreams, a: upstreams.list[0]!, b: upstreams.list[1]! };
}

describe('Upstreams.route', () => {
  it('prefers the first upstream when both have the same headroom', () => {
    const { upstreams } = two(100, 100);
    expect(upstreams.route(cost).map((u) => u.name)).toEqual(['a', 'b']);
    expect(upstreams.primary.name).toBe('a');
    expect(upstreams.primary.baseURL).toBe('http://127.0.0.1:1/a');
  });

  it('sends a request where the most budget is left for its cost', async () => {
    const { upstreams, a } = two(100, 100);
    // Spend most of a's images budget through its limiter.
    await Promise.all(Array.from({ length: 60 }, () => a.limiter.schedule(async () => 'ok', { cost })));
    expect(upstreams.route(cost).map((u) => u.name)).toEqual(['b', 'a']);
  });

  it('puts an upstream whose circuit is open last, so requests fail over', async () => {
    const { upstreams, b, a } = two(100, 1000);
    expect(upstreams.route(cost)[0]).toBe(b);
    for (let i = 0; i < 2; i++) await b.limiter.execute(async () => new Response('{}', { status: 500 }), { cost }).catch(() => undefined);
    expect(b.limiter.circuitState()).toBe('open');
    expect(upstreams.route(cost)).toEqual([a, b]);
    expect(upstreams.anyAvailable()).toBe(true);
  });

  it('refuses duplicate names and an empty list', () => {
    const limiter = parseLimiterConfig({});
    expect(() => new Upstreams([], { registry: new Registry(), timeScale: 1 })).toThrow(/at least one upstream/);
    const spec = { name: 'x', baseURL: 'http://127.0.0.1:1/v1', key: 'k', limiter };
    expect(() => new Upstreams([spec, spec], { registry: new Registry(), timeScale: 1 })).toThrow(/unique, got `x` twice/);
  });
});
