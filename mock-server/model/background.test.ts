import { describe, expect, it } from 'vitest';
import { backgroundUtilization } from './background.ts';
import { slowdownFactor } from './slowdown.ts';

describe('backgroundUtilization', () => {
  it('is constant, diurnal or spiky as configured', () => {
    expect(backgroundUtilization({ kind: 'none' }, 5)).toBe(0);
    expect(backgroundUtilization({ kind: 'constant', utilization: 0.4 }, 5)).toBe(0.4);
    const diurnal = { kind: 'diurnal', mean: 0.5, amplitude: 0.3, period: 1000, phase: 0 } as const;
    expect(backgroundUtilization(diurnal, 0)).toBeCloseTo(0.5);
    expect(backgroundUtilization(diurnal, 250)).toBeCloseTo(0.8);
    expect(backgroundUtilization(diurnal, 750)).toBeCloseTo(0.2);
    const spiky = { kind: 'spiky', base: 0.1, peak: 0.9, every: 100, duration: 20 } as const;
    expect(backgroundUtilization(spiky, 10)).toBe(0.1);
    expect(backgroundUtilization(spiky, 85)).toBe(0.9);
    expect(backgroundUtilization(spiky, 110)).toBe(0.1);
  });
});

describe('slowdownFactor', () => {
  const article = [
    [0, 1],
    [1, 1],
    [10, 1.2],
    [50, 1.6],
  ] as const;
  it('interpolates linearly between points and is flat outside them', () => {
    expect(slowdownFactor(article, 1)).toBe(1);
    expect(slowdownFactor(article, 10)).toBeCloseTo(1.2);
    expect(slowdownFactor(article, 30)).toBeCloseTo(1.4);
    expect(slowdownFactor(article, 50)).toBeCloseTo(1.6);
    expect(slowdownFactor(article, 500)).toBeCloseTo(1.6);
  });
});
