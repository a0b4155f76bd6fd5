import { beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import { generate } from '../../test/support/mock-client.ts';
import { loadProfile } from '../profiles/index.ts';
import { MockModel } from './model.ts';
import { slowdownFactor } from './slowdown.ts';

const fixedLatency = { p50: '1s', p95: '1s', p99: '1s', min: 0, fixedShare: 0.3 };

describe('GPU contention', () => {
  beforeAll(() => new MockModel().ready());

  it.each([429, 503] as const)('with S slots and 2S offered a queue forms, and a full queue answers %i', async (status) => {
    const clock = new VirtualClock();
    const S = 8;
    const model = new MockModel({
      clock,
      profile: loadProfile('article', {
        latency: fixedLatency,
        pool: { slots: S, queue: S, slowdown: [[0, 1]], background: { kind: 'none' }, contention: { status, retryAfter: '2s' } },
      }),
    });
    const inFlight = Array.from({ length: 2 * S }, () => generate(model, {}, { key: 'sk-tier5-load' }));
    await clock.advance(0);
    expect(model.pool.state()).toMatchObject({ busy: S, queued: S });
    const refused = await generate(model, {}, { key: 'sk-tier5-load' });
    expect(refused.status).toBe(status);
    expect(JSON.parse(refused.body).error.message).toBe('The engine is currently overloaded, please try again later.');
    expect(refused.headers['retry-after-ms']).toBe('2000');
    await clock.runAll();
    const statuses = (await Promise.all(inFlight)).map((r) => r.status);
    expect(statuses).toEqual(Array(2 * S).fill(200));
    expect(clock.now() - model.startedAt).toBe(2000);
    expect(model.stats.byReason).toMatchObject({ ok: 2 * S, contention: 1 });
  });

  it.each([10, 30, 50])('slowdown at %i concurrent follows the profile curve within 5 percent', async (concurrency) => {
    const run = async (c: number): Promise<number> => {
      const clock = new VirtualClock();
      const model = new MockModel({ clock, seed: 7, profile: 'article' });
      let total = 0;
      let count = 0;
      const worker = async (): Promise<void> => {
        while (count < 2000) {
          count++;
          const response = await generate(model, {}, { key: 'sk-tier5-curve' });
          expect(response.status).toBe(200);
          total += Number(response.headers['openai-processing-ms']);
        }
      };
      const workers = Array.from({ length: c }, worker);
      await clock.runAll();
      await Promise.all(workers);
      return total / count;
    };
    const baseline = await run(1);
    const loaded = await run(concurrency);
    const curve = loadProfile('article').pool.slowdown;
    const expected = slowdownFactor(curve, concurrency) / slowdownFactor(curve, 1);
    expect(Math.abs(loaded / baseline / expected - 1)).toBeLessThan(0.05);
  });

  it('background tenants take slots, so a quiet account still meets contention at peak', async () => {
    const clock = new VirtualClock();
    const model = new MockModel({
      clock,
      profile: loadProfile('openai', {
        latency: fixedLatency,
        pool: { slots: 10, queue: 0, background: { kind: 'constant', utilization: 0.8 }, contention: { status: 503 } },
      }),
    });
    const first = [generate(model, {}, { key: 'sk-tier5-a' }), generate(model, {}, { key: 'sk-tier5-a' })];
    const third = await generate(model, {}, { key: 'sk-tier5-a' });
    expect(third.status).toBe(503);
    await clock.runAll();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('a client that leaves the queue frees its place, and its slot is not lost', async () => {
    const clock = new VirtualClock();
    const model = new MockModel({ clock, profile: loadProfile('article', { latency: fixedLatency, pool: { slots: 1, queue: 1 } }) });
    const first = generate(model, {}, { key: 'sk-tier5-a' });
    const controller = new AbortController();
    const leaving = generate(model, {}, { key: 'sk-tier5-a', signal: controller.signal });
    await clock.advance(0);
    expect(model.pool.state().queued).toBe(1);
    controller.abort();
    expect((await leaving).status).toBe(499);
    expect(model.pool.state().queued).toBe(0);
    await clock.runAll();
    expect((await first).status).toBe(200);
    expect(model.pool.state()).toMatchObject({ busy: 0, queued: 0 });
    expect(model.stats.byReason.client_closed).toBe(1);
  });
});
