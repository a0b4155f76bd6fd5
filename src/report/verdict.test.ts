import { describe, expect, it } from 'vitest';
import { scenario } from '../../loadtests/scenarios.ts';
import { arrivalsPerMinute, capacityNeeded, queueFacts, verdict } from './verdict.ts';

describe('verdict', () => {
  it('reads the plan back as arrivals per production minute, at any time scale', () => {
    for (const timeScale of [1, 0.1]) {
      const arrivals = arrivalsPerMinute(scenario('peak', { capacity: 50, timeScale }).options, timeScale)!;
      expect(arrivals).toHaveLength(600);
      expect(arrivals[30]).toBeCloseTo(35, 0);
      expect(arrivals[300]).toBeCloseTo(100, 0);
      // 740 arrivals in all.
      expect(arrivals.reduce((a, b) => a + b, 0) / 60).toBeCloseTo(740, -1);
    }
    expect(arrivalsPerMinute({ scenarios: { v: { executor: 'constant-vus', vus: 3, duration: '1m' } }, thresholds: {} }, 1)).toBeUndefined();
  });

  it('finds the least capacity at which no arrival waits past maxWait in a fluid queue', () => {
    // 100/min for 10 minutes: at c the backlog after 10 min is (100 - c) × 10, waiting (100 - c) × 10 / c minutes.
    const flat = Array(600).fill(100);
    const c = capacityNeeded(flat, 5 * 60_000);
    expect((((100 - c) * 10) / c) * 60_000).toBeCloseTo(5 * 60_000, -3);
    expect(capacityNeeded(flat, 0)).toBeCloseTo(100, 1);
  });

  it('says what was delivered, refused and needed, in one paragraph', () => {
    const text = verdict({ capacity: 50, requests: 740, images: 695, goodput: 46.4, refusalRate: 45 / 740, provider429Rate: 0, p95Ms: 312_300, needed: { imagesPerMinute: 52.4, safety: 0.9, tier: 4 } });
    expect(text).toBe(
      'The account (capacity 50 images/min) delivered 695 of 740 requested images (46.4 images/min), P95 5m12.3s per image. 6.1 % of requests (45) were refused by the gateway: they could not start within its queue\'s wait. No provider 429 reached a client. To serve this load with no refusal you need about 53 images/min delivered: an account limit of 59 at the limiter\'s safety 0.9 (tier 4 or higher).',
    );
    expect(verdict({ capacity: 50, requests: 350, images: 350, goodput: 35, refusalRate: 0, provider429Rate: 0, p95Ms: 40_000 })).toContain('The gateway refused nothing.');
  });

  const base = { capacity: 250, requests: 1750, images: 1750, goodput: 107, refusalRate: 0, provider429Rate: 0, p95Ms: 240_000 };

  it('says when requests waited on the concurrency limit (every slot busy), and whether the account had room for more', () => {
    // 8 in flight of 8 while 40 wait: the limit binds; the budgets never held anyone.
    const points = [{ queueDepth: 0, inFlight: 3, concurrencyLimit: 8 }, ...Array(9).fill({ queueDepth: 40, inFlight: 8, concurrencyLimit: 8 }), { queueDepth: 5, inFlight: 12, concurrencyLimit: 16 }];
    const q = queueFacts(points, 150_000)!;
    expect(q).toEqual({ waitP95Ms: 150_000, concurrencyBoundShare: 0.9, maxLimit: 16 });
    expect(verdict({ ...base, queue: q })).toContain(
      "Much of that P95 was the gateway's own queue (P95 wait 2m30s): for 90 % of the time requests waited, every concurrency slot was busy (limit up to 16), so they waited on the gateway's concurrency limit first, while the account delivered 107.0 of its 250 images/min: raise `concurrency.limit` (or `max`), or let `ratelab tune` choose it.",
    );
    // The same queue with the account at its limit: a higher concurrency limit would not help.
    expect(verdict({ ...base, goodput: 240, queue: q })).toContain(
      'so they waited on the gateway\'s concurrency limit first; the account was near its limit too (240.0 of its 250 images/min), so a higher concurrency limit alone would not deliver more.',
    );
  });

  it("says when the account's limits made the wait: requests queued with slots free", () => {
    const q = queueFacts(Array(10).fill({ queueDepth: 30, inFlight: 20, concurrencyLimit: 64 }), 200_000)!;
    expect(verdict({ ...base, queue: q })).toContain("Much of that P95 was the gateway's own queue (P95 wait 3m20s), with concurrency slots free for 100 % of the time requests waited: the account's limits (the budgets) made the wait; more throughput takes a higher tier or more accounts.");
  });

  it('says nothing of the queue when it was a small part of the P95, or when nobody waited', () => {
    expect(verdict({ ...base, queue: queueFacts([{ queueDepth: 3, inFlight: 8, concurrencyLimit: 8 }], 20_000)! })).not.toContain('queue');
    expect(queueFacts([{ queueDepth: 0, inFlight: 8, concurrencyLimit: 8 }, {}], 20_000)).toBeUndefined();
  });
});
