import { describe, expect, it } from 'vitest';
import { RecentRate } from './progress-rate.ts';

describe('RecentRate', () => {
  it('averages over the window, not the last tick: 8 answers/s arriving in bursts reads 8, not 0 or 15', () => {
    const rate = new RecentRate(5_000);
    let count = 0;
    const readings: number[] = [];
    // Ticks every 200 ms; 8 answers a second, all in one tick: the last tick alone reads 0 or 40/s.
    for (let tick = 1; tick <= 100; tick++) {
      if (tick % 5 === 0) count += 8; // 8 answers per second, all at once
      readings.push(rate.update(tick * 200, count));
    }
    for (const r of readings.slice(30)) expect(r).toBeGreaterThanOrEqual(8 * 0.8);
    for (const r of readings.slice(30)) expect(r).toBeLessThanOrEqual(8 * 1.2);
  });

  it('follows a change within one window', () => {
    const rate = new RecentRate(1_000);
    let count = 0;
    let last = 0;
    for (let t = 100; t <= 3_000; t += 100) {
      count += t <= 1_500 ? 10 : 1; // 100/s, then 10/s
      last = rate.update(t, count);
    }
    expect(last).toBeCloseTo(10, 5);
  });

  it('reads 0 before any time has passed, and 0 when nothing completes', () => {
    const rate = new RecentRate();
    expect(rate.update(0, 0)).toBe(0);
    expect(rate.update(1_000, 0)).toBe(0);
  });
});
