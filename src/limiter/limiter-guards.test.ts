import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import { settle } from '../../test/support/mock-client.ts';
import { LimiterError } from './errors.ts';
import { createLimiter } from './limiter.ts';
import { fakeUpstream, ok, status } from './test-support/fake-upstream.ts';

describe('limiter budgets', () => {
  it('paces weighted image costs through RPM, IPM and TPM together', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ budgets: { ipm: { limit: 10 }, tpm: { limit: 20_000 }, safety: 1 }, concurrency: { mode: 'fixed', limit: 100 } }, { clock });
    const up = fakeUpstream(clock, () => ok(), 10);
    const jobs = Array.from({ length: 12 }, () => limiter.execute(up.task, { cost: { prompt: 'x', quality: 'high', size: '1024x1024', n: 1 } }));
    await settle(clock, Promise.all(jobs));
    // 4161 tokens each (4160 + 1 for the prompt): 4 fit the 20k burst at once, the fifth when
    // 805 more have refilled (2.415 s), then one every 4161/20000 min = 12.483 s.
    expect(up.calls.slice(0, 4).every((c) => c.at === 0)).toBe(true);
    expect(up.calls[4]!.at).toBeCloseTo(2415, 0);
    expect(up.calls[11]!.at).toBeCloseTo(2415 + 7 * 12_483, -1);
  });

  it('reconciles the token reservation with the usage the provider reports', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ budgets: { tpm: { limit: 10_000 }, safety: 1 }, concurrency: { mode: 'fixed', limit: 100 } }, { clock });
    // An SDK result carries `usage`: 282 tokens were used, not the 4161 reserved.
    const sdkCall = async () => {
      await clock.sleep(10);
      return { data: [], usage: { input_tokens: 10, output_tokens: 272 } };
    };
    await settle(clock, limiter.execute(sdkCall, { cost: { prompt: 'x', quality: 'high', size: '1024x1024' } }));
    const remaining = limiter.state().store.remaining.tpm!;
    expect(remaining).toBeCloseTo(10_000 - 282, -1);
    // A fetch-style task reports what it read from the body.
    const fetchCall = async (ctx: { reportUsage(u: object): void }) => {
      await clock.sleep(10);
      ctx.reportUsage({ input_tokens: 10, output_tokens: 272 });
      return ok();
    };
    await settle(clock, limiter.execute(fetchCall, { cost: { prompt: 'x', quality: 'high', size: '1024x1024' } }));
    expect(limiter.state().store.remaining.tpm!).toBeCloseTo(10_000 - 2 * 282, -1);
  });

  it('learns limits from x-ratelimit headers and slows down before the provider says 429', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ budgets: { requestsHeader: 'ipm', safety: 1 }, concurrency: { mode: 'fixed', limit: 100 } }, { clock });
    const headers = { 'x-ratelimit-limit-requests': '5', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '12s' };
    const up = fakeUpstream(clock, () => ok({}, headers), 10);
    await settle(clock, limiter.execute(up.task, { cost: { prompt: 'x' } }));
    expect(limiter.state().store.limits.ipm).toBe(5);
    const next = limiter.execute(up.task, { cost: { prompt: 'x' } });
    await settle(clock, next);
    expect(up.calls[1]!.at - up.calls[0]!.at).toBeGreaterThanOrEqual(11_000);
  });

  it('sheds a cost that can never fit instead of waiting forever', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ budgets: { ipm: { limit: 5 }, safety: 1 } }, { clock });
    const e = await limiter.execute(async () => ok(), { cost: { prompt: 'x', n: 10 } });
    expect((e.error as LimiterError).reason).toBe('never_fits');
  });
});

describe('limiter circuit breaker', () => {
  it('opens on server errors, refuses new work with retry-after, probes, and closes', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(
      { circuit: { window: 10, minimumRequests: 4, failureRate: 0.5, openFor: '30s', halfOpenProbes: 1 }, retry: { maxAttempts: 1 }, concurrency: { mode: 'fixed', limit: 10 } },
      { clock },
    );
    let healthy = false;
    const up = fakeUpstream(clock, () => (healthy ? ok() : status(500)), 100);
    await settle(clock, Promise.all(Array.from({ length: 4 }, () => limiter.execute(up.task))));
    expect(limiter.circuitState()).toBe('open');
    const refused = await limiter.execute(up.task);
    expect((refused.error as LimiterError).reason).toBe('circuit_open');
    expect((refused.error as LimiterError).retryAfterMs).toBeCloseTo(30_000);
    healthy = true;
    await clock.advance(30_000);
    const probe = await settle(clock, limiter.execute(up.task));
    expect(probe.ok).toBe(true);
    expect(limiter.circuitState()).toBe('closed');
  });

  // With contentionOpens (the default) a 503 probe is a verdict: it reopens the circuit (circuit-breaker.test.ts).
  it.each([
    ['a 400', () => status(400, { message: 'bad', type: 'invalid_request_error', code: null }), true],
    ['GPU contention (503), contentionOpens off', () => status(503), false],
  ])('a probe that ends without a verdict (%s) frees its slot for the next probe instead of wedging half-open', async (_name, verdictless, contentionOpens) => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(
      { circuit: { window: 10, minimumRequests: 4, failureRate: 0.5, openFor: '30s', halfOpenProbes: 1, contentionOpens }, retry: { maxAttempts: 1 }, concurrency: { mode: 'fixed', limit: 10 }, queue: { maxWait: '10m' } },
      { clock },
    );
    let phase: 'down' | 'odd' | 'up' = 'down';
    const up = fakeUpstream(clock, () => (phase === 'down' ? status(500) : phase === 'odd' ? verdictless() : ok()), 100);
    await settle(clock, Promise.all(Array.from({ length: 4 }, () => limiter.execute(up.task))));
    await clock.advance(30_000);
    phase = 'odd';
    const probe = limiter.execute(up.task);
    const waiting = Array.from({ length: 3 }, () => limiter.execute(up.task));
    await clock.advance(150);
    expect((await probe).ok).toBe(true); // the provider's answer, delivered
    phase = 'up';
    const done = await settle(clock, Promise.all(waiting));
    expect(done.map((e) => [e.ok, e.attempts, e.error])).toEqual(Array(3).fill([true, 1, undefined]));
    expect(limiter.circuitState()).toBe('closed');
    // The next probe went out right after the first one's answer, not at a deadline.
    expect(clock.now()).toBeLessThan(30_000 + 1_000);
  });
});

describe('limiter spend guard', () => {
  it('admits only high priority past 95 % and refuses at 100 %', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ spend: { budget: 1, period: '1h' }, concurrency: { mode: 'fixed', limit: 100 } }, { clock });
    const up = fakeUpstream(clock, () => ok(), 10);
    // gpt-image-1 is priced per image (its documented list prices), which keeps these sums exact.
    const high = { model: 'gpt-image-1', prompt: 'x', quality: 'high', size: '1024x1024' } as const;
    const medium = { ...high, quality: 'medium' } as const;
    // 5 × $0.167 + $0.042 + $0.063 = $0.94: still under 95 %.
    const first = await settle(
      clock,
      Promise.all([...Array.from({ length: 5 }, () => limiter.execute(up.task, { cost: high })), limiter.execute(up.task, { cost: medium }), limiter.execute(up.task, { cost: { ...medium, size: '1536x1024' } })]),
    );
    expect(first.every((e) => e.ok)).toBe(true);
    const normal = await settle(clock, limiter.execute(up.task, { cost: medium }));
    expect((normal.error as LimiterError).reason).toBe('spend_high_only');
    expect((await settle(clock, limiter.execute(up.task, { cost: medium, priority: 'high' }))).ok).toBe(true);
    const exhausted = await limiter.execute(up.task, { cost: high, priority: 'critical' });
    expect((exhausted.error as LimiterError).reason).toBe('budget_exhausted');
    expect(limiter.spendUsed().usd).toBeCloseTo(0.982);
  });
});

describe('limiter metrics', () => {
  it('exports queue depth, in-flight, limit, budgets, retries and sheds from the catalogue', async () => {
    const clock = new VirtualClock(0);
    const registry = new Registry();
    const limiter = createLimiter({ budgets: { ipm: { limit: 5 } }, concurrency: { mode: 'fixed', limit: 1 }, queue: { maxSize: 1 } }, { clock, registry, name: 'primary' });
    const up = fakeUpstream(clock, (call) => (call === 0 ? status(500) : ok()), 100);
    const running = limiter.execute(up.task, { cost: { prompt: 'x' } });
    const queued = limiter.execute(up.task, { priority: 'high', cost: { prompt: 'x' } });
    await limiter.execute(up.task);
    let text = await registry.metrics();
    expect(text).toContain('ratelab_limiter_queue_depth{upstream="primary",priority="high"} 1');
    expect(text).toContain('ratelab_limiter_in_flight{upstream="primary"} 1');
    expect(text).toContain('ratelab_limiter_concurrency_limit{upstream="primary"} 1');
    expect(text).toContain('ratelab_limiter_sheds_total{upstream="primary",reason="queue_full"} 1');
    expect(text).toMatch(/ratelab_limiter_budget_remaining\{upstream="primary",dimension="ipm"\} 3/);
    await settle(clock, Promise.all([running, queued]));
    text = await registry.metrics();
    expect(text).toContain('ratelab_limiter_retries_total{upstream="primary",reason="server"} 1');
    expect(text).toContain('ratelab_limiter_attempts_total{upstream="primary",kind="ok"} 2');
    expect(text).toContain('ratelab_limiter_tasks_total{upstream="primary",outcome="ok"} 2');
    expect(text).toMatch(/ratelab_limiter_queue_wait_seconds_count\{upstream="primary"\} 2/);
  });
});
