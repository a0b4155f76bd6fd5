import { describe, expect, it } from 'vitest';
import { MIXES } from '../../loadtests/mixes.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { CATALOGUE } from '../openai/catalogue.ts';
import { priceOf } from '../openai/prices.ts';
import { bestLimiter, mixCost, plan, plannedGatewayConfig, type LimiterTried } from './plan.ts';

const targets = { p95Ms: 360_000, max429Rate: 0.01, maxRefusalRate: 0.01 };

describe('plan', () => {
  it('adds accounts until the demand is served within the targets, and recommends the fewest', { timeout: 60_000 }, async () => {
    // Tier 3 holds 50 images/min: 30 fit one account; 130 for half an hour need three (two would queue past the 5-minute wait).
    const small = await plan({ profile: 'openai', mix: MIXES.single!, demand: 30, durationMs: 10 * 60_000, targets, tiers: [3], maxAccounts: 4 });
    expect(small.tried.map((t) => [t.tier, t.accounts, t.meets])).toEqual([[3, 1, true]]);
    expect(small.recommended).toMatchObject({ tier: 3, accounts: 1 });

    const big = await plan({ profile: 'openai', mix: MIXES.single!, demand: 130, durationMs: 30 * 60_000, targets, tiers: [3], maxAccounts: 4 });
    const first = big.tried[0]!;
    expect(first).toMatchObject({ accounts: 1, meets: false });
    expect(first.misses.join(' ')).toMatch(/refusals/);
    expect(big.recommended!.accounts).toBeGreaterThanOrEqual(3);
    expect(big.tried.at(-1)).toBe(big.recommended);
    // More accounts never deliver less.
    for (let i = 1; i < big.tried.length; i++) expect(big.tried[i]!.goodput).toBeGreaterThanOrEqual(big.tried[i - 1]!.goodput * 0.99);
  });

  it('says when no option meets the targets', { timeout: 60_000 }, async () => {
    const none = await plan({ profile: 'openai', mix: MIXES.single!, demand: 400, durationMs: 5 * 60_000, targets, tiers: [3], maxAccounts: 2 });
    expect(none.recommended).toBeUndefined();
    expect(none.tried).toHaveLength(2);
  });

  it("prices the mix from the catalogue: each class's image, weighted by its share, and a month at the demand", async () => {
    const cost = mixCost(MIXES.single!, 'openai');
    const expected = priceOf({ model: 'gpt-image-1.5', prompt: 'ratelab load test 1-0', n: 1, quality: 'low', size: '1024x1024', inputImages: [] }, CATALOGUE);
    expect(cost.perImage).toBeCloseTo(expected, 6);
    expect(cost.per1000).toBeCloseTo(1000 * expected, 6);
    const mixed = mixCost(MIXES.default!, 'openai');
    expect(mixed.byClass.map((c) => c.share)).toEqual([0.45, 0.2, 0.1, 0.2, 0.05]);
    expect(mixed.perImage).toBeCloseTo(mixed.byClass.reduce((a, c) => a + c.share * c.perImage, 0), 9);
    // High quality costs more than medium, medium more than low.
    const by = new Map(mixed.byClass.map((c) => [c.class, c.perImage]));
    expect(by.get('gen-high')!).toBeGreaterThan(by.get('gen-medium')!);
    expect(by.get('gen-medium')!).toBeGreaterThan(by.get('gen-preview')!);
    const p = await plan({ profile: 'openai', mix: MIXES.single!, demand: 20, durationMs: 5 * 60_000, targets, tiers: [3], maxAccounts: 1 });
    expect(p.cost.perMonth).toBeCloseTo(expected * 20 * 60 * 24 * 30, 3);
  });

  it('writes a gateway config the gateway accepts: one upstream per account, keys from the environment', () => {
    const config = parseGatewayConfig(plannedGatewayConfig({ tier: 3, accounts: 3 } as never, 'https://api.openai.com/v1'));
    expect(config.upstreams!.map((u) => [u.name, u.apiKeyEnv])).toEqual([
      ['account-1', 'UPSTREAM_1_API_KEY'],
      ['account-2', 'UPSTREAM_2_API_KEY'],
      ['account-3', 'UPSTREAM_3_API_KEY'],
    ]);
  });

  it("tries the tuner's grid where the limiter decides an option: a limiter too tight for one account does not cost a second", { timeout: 60_000 }, async () => {
    // 30 images/min at tier 3 (IPM 50): 4 in flight at ~20 s an image serve ~12 a minute, and the queue past 5 minutes is refused.
    const o = { profile: 'openai', mix: MIXES.single!, demand: 30, durationMs: 10 * 60_000, targets, tiers: [3], maxAccounts: 2, limiter: { concurrency: { mode: 'fixed' as const, limit: 4 } } };
    const kept = await plan({ ...o, searchLimiter: false });
    expect(kept.recommended).toMatchObject({ accounts: 2, limiter: 'the given limiter' });
    expect(kept.limiters).toHaveLength(1);
    const searched = await plan(o);
    expect(searched.recommended).toMatchObject({ tier: 3, accounts: 1, meets: true });
    expect(searched.recommended!.limiter).not.toBe('the given limiter');
    // The given limiter first, missing; the one chosen meets with the lowest slowest-class P95, at the default headroom.
    expect(searched.limiters[0]).toMatchObject({ name: 'the given limiter', option: { meets: false } });
    expect(searched.limiter!.option).toBe(searched.recommended);
    for (const l of searched.limiters.filter((l) => l.option.meets)) expect(l.option.worstP95Ms).toBeGreaterThanOrEqual(searched.limiter!.option.worstP95Ms);
    expect(searched.limiter!.config.budgets).toMatchObject({ safety: 0.9 });
    expect(parseGatewayConfig(plannedGatewayConfig(searched.recommended!, 'https://api.openai.com/v1', searched.limiter!.config)).limiter.budgets.safety).toBe(0.9);
  });

  it('keeps the given limiter where no other is more than 5 % quicker, and searches no option whose accounts cannot take their share', { timeout: 60_000 }, async () => {
    // 130/min for half an hour on one or two tier-3 accounts (IPM 50 × 0.9): no limiter serves that; three can.
    const p = await plan({ profile: 'openai', mix: MIXES.single!, demand: 130, durationMs: 30 * 60_000, targets, tiers: [3], maxAccounts: 4 });
    expect(p.tried.slice(0, 2).map((t) => t.limiter)).toEqual(['the defaults', 'the defaults']);
    expect(p.recommended!.accounts).toBeGreaterThanOrEqual(3);
    expect(p.limiters.length).toBeGreaterThan(1);
    expect(bestLimiter(p.limiters)).toBe(p.limiter);
    const [given, quicker] = [p.limiters[0]!, p.limiters.find((l) => l.option.meets && l !== p.limiters[0])!];
    const at = (l: LimiterTried, ms: number): LimiterTried => ({ ...l, option: { ...l.option, meets: true, worstP95Ms: ms } });
    expect(bestLimiter([at(given, 104_000), at(quicker, 100_000)])!.name).toBe(given.name);
    expect(bestLimiter([at(given, 106_000), at(quicker, 100_000)])!.name).toBe(quicker.name);
  });
});
