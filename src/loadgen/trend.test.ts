import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { Trend } from './trend.ts';

describe('Trend', () => {
  it('gives percentiles within 0.1 % of the exact ones, and the exact avg, min and max', () => {
    const rng = createRng(3);
    const trend = new Trend();
    const values = Array.from({ length: 20_000 }, () => Math.exp(rng.next() * 12));
    for (const v of values) trend.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(Math.abs(trend.percentile(p) - exact) / exact).toBeLessThan(0.001);
    }
    expect(trend.stat('avg')).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
    expect(trend.stat('min')).toBe(sorted[0]);
    expect(trend.stat('max')).toBe(sorted[sorted.length - 1]);
    expect(trend.stat('med')).toBe(trend.percentile(50));
    expect(trend.stat('p(99.9)')).toBe(trend.percentile(99.9));
  });

  it('records values past its initial size (a 3-hour duration in ms)', () => {
    const trend = new Trend();
    trend.add(5);
    trend.add(3 * 3600_000);
    expect(trend.percentile(99)).toBeCloseTo(3 * 3600_000, -4);
    expect(trend.percentile(10)).toBeCloseTo(5, 2);
  });

  it('reports 0 for an empty trend and names a bad stat', () => {
    const trend = new Trend();
    expect(trend.stat('p(95)')).toBe(0);
    expect(trend.stat('max')).toBe(0);
    expect(() => trend.stat('p95')).toThrow('Expected a trend stat (avg, min, med, max, p(N)), got `p95` (string)');
  });
});
