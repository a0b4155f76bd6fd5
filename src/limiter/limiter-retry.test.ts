import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import { settle } from '../../test/support/mock-client.ts';
import { createLimiter } from './limiter.ts';
import { fakeUpstream, limit429, ok, status } from './test-support/fake-upstream.ts';

const config = (extra: object = {}) => ({ concurrency: { mode: 'fixed' as const, limit: 4 }, retry: { maxAttempts: 4, baseDelay: '1s', maxDelay: '8s' }, queue: { maxWait: '10m' }, ...extra });

describe('limiter retries', () => {
  it.each([400, 401, 403])('never retries %i', async (code) => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const up = fakeUpstream(clock, () => status(code));
    const e = await settle(clock, limiter.execute(up.task));
    expect(e).toMatchObject({ ok: true, attempts: 1, lastStatus: code, lastKind: 'fatal' });
    expect((e.value as Response).status).toBe(code);
  });

  it('times out an attempt after retry.attemptTimeout, retries it, and ends with a TimeoutError', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config({ retry: { maxAttempts: 2, baseDelay: '1s', attemptTimeout: '2s' } }), { clock });
    const up = fakeUpstream(clock, () => ok(), 60_000); // a hung provider; the fake honours ctx.signal
    const e = await settle(clock, limiter.execute(up.task));
    expect(e).toMatchObject({ ok: false, attempts: 2, lastKind: 'server' });
    expect((e.error as DOMException).name).toBe('TimeoutError');
    expect(up.calls).toHaveLength(2);
    expect(up.calls[1]!.at - up.calls[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(clock.now()).toBeLessThan(2_000 + 1_000 + 2_000 + 1);
    expect(limiter.inFlight).toBe(0);
  });

  it('keeps a late answer from a task that ignores the timeout signal, and scales the timeout', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config({ retry: { attemptTimeout: '200s' } }), { clock, timeScale: 0.01 });
    expect(limiter.config.retry.attemptTimeout).toBe(2_000);
    const deaf = async () => {
      await clock.sleep(5_000);
      return ok();
    };
    const e = await settle(clock, limiter.execute(deaf));
    expect(e).toMatchObject({ ok: true, attempts: 1, lastKind: 'ok' });
  });

  it('never retries insufficient_quota', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const up = fakeUpstream(clock, () => Object.assign(new Error('quota'), { status: 429, code: 'insufficient_quota' }));
    const e = await settle(clock, limiter.execute(up.task));
    expect(e).toMatchObject({ ok: false, attempts: 1, lastKind: 'fatal' });
    expect((e.error as Error).message).toBe('quota');
  });

  it('retries 500s with full-jitter backoff up to maxAttempts, then returns the last answer', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const up = fakeUpstream(clock, () => status(500), 100);
    const e = await settle(clock, limiter.execute(up.task));
    expect(e).toMatchObject({ ok: true, attempts: 4, lastStatus: 500, lastKind: 'server' });
    const gaps = up.calls.slice(1).map((c, i) => c.at - up.calls[i]!.at - 100);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeLessThan(1000 * 2 ** i);
    });
  });

  it('recovers when a retry succeeds, and thrown errors are rethrown by schedule()', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const flaky = fakeUpstream(clock, (call) => (call < 2 ? Object.assign(new Error('reset'), { code: 'ECONNRESET' }) : ok({ done: true })));
    const value = await settle(clock, limiter.schedule(flaky.task));
    expect(await value.json()).toEqual({ done: true });
    const broken = fakeUpstream(clock, () => Object.assign(new Error('always down'), { status: 502 }));
    await expect(settle(clock, limiter.schedule(broken.task))).rejects.toThrow('always down');
    expect(broken.calls).toHaveLength(4);
  });

  it('honours retry-after above 60 s (openai-node ignores those)', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const up = fakeUpstream(clock, (call) => (call === 0 ? status(503, null, { 'retry-after': '90' }) : ok()), 10);
    const e = await settle(clock, limiter.execute(up.task));
    expect(e.attempts).toBe(2);
    expect(up.calls[1]!.at - up.calls[0]!.at).toBeGreaterThanOrEqual(90_010);
  });

  it('gives up rather than wait longer than queue.maxWait', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config({ queue: { maxWait: '1m' } }), { clock });
    const up = fakeUpstream(clock, () => limit429(120_000), 10);
    const e = await settle(clock, limiter.execute(up.task));
    expect(e).toMatchObject({ attempts: 1, lastStatus: 429, lastKind: 'limit' });
  });

  it('a limit 429 pauses everyone until its retry-after, not just the request that got it', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config(), { clock });
    const up = fakeUpstream(clock, (call) => (call === 0 ? limit429(30_000) : ok()), 100);
    const first = limiter.execute(up.task);
    await clock.advance(100);
    const others = [limiter.execute(up.task), limiter.execute(up.task), limiter.execute(up.task)];
    await settle(clock, Promise.all([first, ...others]));
    expect(up.calls[0]!.at).toBe(0);
    expect(up.calls.slice(1).every((c) => c.at >= 30_100)).toBe(true);
    expect((await first).attempts).toBe(2);
  });

  it('contention shrinks the adaptive concurrency limit and backs off', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter({ concurrency: { mode: 'adaptive', limit: 20, decrease: 0.5 }, retry: { maxAttempts: 2 } }, { clock });
    const up = fakeUpstream(clock, () => status(503), 100);
    await settle(clock, limiter.execute(up.task));
    expect(limiter.state().concurrencyLimit).toBe(5);
  });

  it('spends at most the retry budget on retries', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(config({ concurrency: { mode: 'fixed', limit: 50 }, retry: { maxAttempts: 10, budgetRatio: 0.1, budgetMinimum: 5, baseDelay: '10ms' } }), { clock });
    const up = fakeUpstream(clock, () => status(500), 10);
    await settle(clock, Promise.all(Array.from({ length: 100 }, () => limiter.execute(up.task))));
    const retries = up.calls.filter((c) => c.attempt > 1).length;
    expect(retries).toBeLessThanOrEqual(5 + 100 * 0.1);
    expect(retries).toBeGreaterThanOrEqual(10);
  });
});
