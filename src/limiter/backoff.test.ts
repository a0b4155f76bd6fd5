import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { fullJitter, RetryBudget } from './backoff.ts';

describe('fullJitter', () => {
  it('is uniform on [0, min(cap, base·2^retry))', () => {
    const rng = createRng(1);
    for (const retry of [0, 1, 3, 10]) {
      const ceiling = Math.min(60_000, 1000 * 2 ** retry);
      const xs = Array.from({ length: 20_000 }, () => fullJitter(rng, retry, 1000, 60_000));
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...xs)).toBeLessThan(ceiling);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean / ceiling).toBeCloseTo(0.5, 1);
      const lowQuarter = xs.filter((x) => x < ceiling / 4).length / xs.length;
      expect(lowQuarter).toBeCloseTo(0.25, 1);
    }
  });
});

describe('RetryBudget', () => {
  it('allows the minimum, then about ratio × requests', () => {
    const budget = new RetryBudget(0.1, 10);
    let retries = 0;
    for (let i = 0; i < 1000; i++) {
      budget.onRequest();
      if (budget.tryRetry()) retries++;
    }
    expect(retries).toBeGreaterThanOrEqual(100);
    expect(retries).toBeLessThanOrEqual(110);
    expect(budget.tryRetry()).toBe(false);
  });
});
