import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { loadProfile } from '../profiles/index.ts';
import { LatencyModel } from './latency.ts';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

describe('LatencyModel', () => {
  const profile = loadProfile('article');
  // The article's gpt-image-1: medium 1024² is 1056 output tokens, low 272, high 4160 (1536x1024 high: 6208).
  const reference = { tokens: 1056, format: 'png', n: 1, inputImages: 0 } as const;

  it.each([1, 2, 3])('5000 samples reproduce the profile P50/P95/P99 within 3 percent (seed %i)', (seed) => {
    const model = new LatencyModel(profile.latency, createRng(seed), 1056);
    const samples = Array.from({ length: 5000 }, () => model.sample(reference)).sort((a, b) => a - b);
    expect(Math.abs(quantile(samples, 0.5) / 25_000 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(samples, 0.95) / 55_000 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(samples, 0.99) / 90_000 - 1)).toBeLessThan(0.03);
  });

  it('hits the quantiles exactly at their z-scores', () => {
    const model = new LatencyModel(profile.latency, createRng(1), 1056);
    expect(model.atZ(0)).toBeCloseTo(25_000, 6);
    expect(model.atZ(1.6448536269514722)).toBeCloseTo(55_000, 6);
    expect(model.atZ(2.3263478740408408)).toBeCloseTo(90_000, 6);
  });

  it('grows with output tokens, extra images, input images and png over jpeg', () => {
    const model = new LatencyModel(profile.latency, createRng(1), 1056);
    const low = model.factor({ ...reference, tokens: 272 });
    const high = model.factor({ ...reference, tokens: 4160 });
    const wide = model.factor({ ...reference, tokens: 1568 });
    expect(model.factor(reference)).toBe(1);
    expect(low).toBeCloseTo(0.3 + 0.7 * (272 / 1056), 9);
    expect(high).toBeCloseTo(0.3 + 0.7 * (4160 / 1056), 9);
    expect(wide).toBeGreaterThan(1);
    expect(model.factor({ ...reference, n: 3 })).toBeCloseTo(2, 9);
    expect(model.factor({ ...reference, format: 'jpeg' })).toBeLessThan(1);
    expect(model.factor({ ...reference, inputImages: 4 })).toBeCloseTo(1.4, 9);
  });

  it('clamps to the profile min and max and is zero for a zero profile', () => {
    const model = new LatencyModel(profile.latency, createRng(5), 1056);
    const high = Array.from({ length: 2000 }, () => model.sample({ ...reference, tokens: 6208, n: 10 }));
    expect(Math.max(...high)).toBe(180_000);
    const zero = new LatencyModel(loadProfile('zero').latency, createRng(1), 1056);
    expect(zero.sample(reference)).toBe(0);
  });
});

describe('LatencyModel with iid sampling', () => {
  it('still centres on the profile quantiles over many draws', () => {
    const profile = loadProfile('article', { latency: { ...loadProfile('article').latency, sampling: 'iid' } });
    const model = new LatencyModel(profile.latency, createRng(11), 1056);
    const samples = Array.from({ length: 40_000 }, () => model.sample({ tokens: 1056, format: 'png', n: 1, inputImages: 0 })).sort(
      (a, b) => a - b,
    );
    expect(Math.abs(quantile(samples, 0.5) / 25_000 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(samples, 0.95) / 55_000 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(samples, 0.99) / 90_000 - 1)).toBeLessThan(0.05);
  });
});
