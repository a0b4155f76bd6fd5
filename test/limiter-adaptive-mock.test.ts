import { beforeAll, describe, expect, it } from 'vitest';
import { MockModel } from '../mock-server/model/model.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { VirtualClock } from '../src/core/virtual-clock.ts';
import { createLimiter } from '../src/limiter/limiter.ts';
import { inProcessTask } from './support/in-process-upstream.ts';
import { settle } from './support/mock-client.ts';

beforeAll(() => new MockModel().ready());

/** A GPU pool of `slots` with no queue: one request too many gets 503 at once. */
function gpuMock(clock: VirtualClock, slots: number, background: object = { kind: 'none' }) {
  return new MockModel({
    clock,
    seed: 3,
    profile: loadProfile('article', {
      latency: { p50: '10s', p95: '14s', p99: '18s', min: '1s' },
      pool: { slots, queue: 0, slowdown: [[0, 1]], background: background as never, contention: { status: 503 } },
    }),
  });
}

describe('adaptive concurrency against the mock GPU pool (virtual clock)', () => {
  it('converges to the pool capacity within 10 % and drops when contention rises', async () => {
    const clock = new VirtualClock();
    const S = 24;
    const model = gpuMock(clock, S, { kind: 'spiky', base: 0, peak: 0.5, every: '40m', duration: '20m' });
    const limiter = createLimiter(
      { concurrency: { mode: 'adaptive', limit: 4, max: 200 }, queue: { maxSize: 100_000, maxWait: '2h' }, retry: { maxAttempts: 10, baseDelay: '1s', maxDelay: '10s', budgetRatio: 1 } },
      { clock },
    );
    const task = inProcessTask(model, 'sk-tier5-adaptive');
    const jobs = Array.from({ length: 12_000 }, () => limiter.execute(task));
    const samples: { at: number; limit: number; busy: number }[] = [];
    const sample = (): void => {
      samples.push({ at: clock.now() - model.startedAt, limit: limiter.state().concurrencyLimit, busy: model.pool.state().busy });
      if (limiter.pending > 0) clock.setTimer(sample, 5_000);
    };
    sample();
    await settle(clock, Promise.all(jobs));
    const mean = (from: number, to: number) => {
      const xs = samples.filter((s) => s.at >= from * 60_000 && s.at < to * 60_000).map((s) => s.limit);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    // Minutes 5–20: the whole pool is ours (24 slots). Minutes 25–40: background holds half (12).
    expect(Math.abs(mean(5, 20) / S - 1)).toBeLessThan(0.1);
    expect(Math.abs(mean(25, 40) / (S / 2) - 1)).toBeLessThan(0.1);
    const results = await Promise.all(jobs);
    expect(results.filter((r) => r.lastStatus === 200)).toHaveLength(12_000);
  });
});
