import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { Budgets } from './budgets.ts';
import { parseLimiterConfig } from './config.ts';
import { imageCost, type Cost } from './cost.ts';

const budgetsOf = (input: object, now = 0) => new Budgets(parseLimiterConfig({ budgets: input }).budgets, now);

describe('Budgets', () => {
  it('admits atomically on every dimension or on none', () => {
    const b = budgetsOf({ ipm: { limit: 10, burst: 5 }, tpm: { limit: 10_000, burst: 5000 }, safety: 1 });
    expect(b.admit({ rpm: 1, ipm: 1, tpm: 4160 }, 0)).toEqual({ ok: true });
    const refused = b.admit({ rpm: 1, ipm: 1, tpm: 4160 }, 0);
    expect(refused).toMatchObject({ ok: false, dimension: 'tpm' });
    expect(b.available('ipm', 0)).toBeCloseTo(4);
  });

  it('reconciles a reservation with actual usage', () => {
    const b = budgetsOf({ tpm: { limit: 60_000, burst: 10_000 }, safety: 1 });
    b.admit({ rpm: 1, ipm: 1, tpm: 6000 }, 0);
    b.adjust('tpm', -5000, 0);
    expect(b.available('tpm', 0)).toBeCloseTo(9000);
    b.adjust('tpm', 2000, 0);
    expect(b.available('tpm', 0)).toBeCloseTo(7000);
  });

  it('charges usage above the reservation even when the budget was idle', () => {
    const b = budgetsOf({ tpm: { limit: 60_000, burst: 10_000 }, safety: 1 });
    b.adjust('tpm', 3000, 120_000);
    expect(b.available('tpm', 120_000)).toBeCloseTo(7000);
  });

  it('says never for a cost above the burst', () => {
    const b = budgetsOf({ ipm: { limit: 5 }, safety: 1 });
    expect(b.admit({ rpm: 1, ipm: 10, tpm: 0 }, 0)).toMatchObject({ ok: false, waitMs: Infinity });
  });

  it('learns a limit later and keeps what was used', () => {
    const b = budgetsOf({ ipm: { limit: 'auto' }, safety: 0.5 });
    expect(b.has('ipm')).toBe(false);
    b.setLimit('ipm', 20, 0);
    expect(b.limitOf('ipm')).toBe(20);
    expect(b.available('ipm', 0)).toBeCloseTo(10);
    b.admit({ rpm: 1, ipm: 4, tpm: 0 }, 0);
    b.setLimit('ipm', 40, 0);
    expect(b.available('ipm', 0)).toBeCloseTo(16);
  });

  /**
   * Property: whatever the arrivals and weights, between any two admissions the units
   * admitted never exceed burst + rate × elapsed (the budget's envelope, stronger than any
   * fixed window). Random arrivals and costs, random limits and bursts, 20 seeds.
   */
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))('never exceeds a budget over any interval (property, seed %i)', (seed) => {
    const rng = createRng(seed);
    const limits = { rpm: 100 + rng.int(400), ipm: 20 + rng.int(100), tpm: 50_000 + rng.int(200_000) };
    const safety = 0.5 + rng.next() * 0.5;
    const burstShare = 0.3 + rng.next() * 0.7;
    const budget = (dim: keyof typeof limits) => ({ limit: limits[dim], burst: limits[dim] * safety * burstShare });
    const b = budgetsOf({ rpm: budget('rpm'), ipm: budget('ipm'), tpm: budget('tpm'), safety });
    const admitted: { at: number; cost: Cost }[] = [];
    let now = 0;
    for (let i = 0; i < 2000; i++) {
      now += rng.next() < 0.3 ? 0 : rng.next() * 2000;
      const cost = imageCost({
        n: 1 + rng.int(4),
        quality: ['low', 'medium', 'high'][rng.int(3)],
        size: ['1024x1024', '1536x1024', '1024x1536'][rng.int(3)],
        prompt: 'p'.repeat(rng.int(2000)),
      });
      if (b.admit(cost, now).ok) admitted.push({ at: now, cost });
    }
    expect(admitted.length).toBeGreaterThan(50);
    for (const dim of ['rpm', 'ipm', 'tpm'] as const) {
      const rate = (limits[dim] * safety) / 60_000;
      const burst = limits[dim] * safety * burstShare;
      // The worst excess over the envelope across every interval (plain loops: millions of
      // expect() calls would make this test slow, not stricter).
      let worst = -Infinity;
      for (let i = 0; i < admitted.length; i++) {
        let sum = 0;
        for (let j = i; j < admitted.length && j < i + 400; j++) {
          sum += admitted[j]!.cost[dim];
          worst = Math.max(worst, sum - (burst + rate * (admitted[j]!.at - admitted[i]!.at)));
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-6);
      // And so no 60 s window holds more than the provider's bucket allows (limit + limit).
      expect(rate * 60_000 + burst).toBeLessThanOrEqual(2 * limits[dim]);
    }
  });
});
