import { describe, expect, it } from 'vitest';
import { parseLimiterConfig } from './config.ts';
import { createConcurrencyLimit } from './concurrency.ts';

const make = (c: object) => createConcurrencyLimit(parseLimiterConfig({ concurrency: c }).concurrency);

describe('ConcurrencyLimit', () => {
  it('stays put when fixed', () => {
    const l = make({ mode: 'fixed', limit: 5 });
    l.onContention();
    l.onSuccess(10, 'a', 5);
    expect(l.current).toBe(5);
  });

  it('drops multiplicatively on contention, within bounds', () => {
    const l = make({ limit: 100, min: 60, max: 200, decrease: 0.9 });
    l.onContention();
    expect(l.current).toBe(90);
    for (let i = 0; i < 20; i++) l.onContention();
    expect(l.current).toBe(60);
  });

  it('grows additively while in use, and not when idle', () => {
    const l = make({ limit: 10, max: 12 });
    for (let i = 0; i < 11; i++) l.onSuccess(1000, 'a', 10);
    expect(l.current).toBe(11);
    for (let i = 0; i < 100; i++) l.onSuccess(1000, 'a', 12);
    expect(l.current).toBe(12);
    const idle = make({ limit: 10 });
    for (let i = 0; i < 100; i++) idle.onSuccess(1000, 'a', 2);
    expect(idle.current).toBe(10);
  });

  it('ignores the natural spread of latencies around their mean', () => {
    const l = make({ limit: 20, max: 20 });
    for (let i = 0; i < 1000; i++) l.onSuccess([400, 1000, 2500, 900, 1200][i % 5]!, 'a', 20);
    expect(l.current).toBe(20);
  });

  it('shrinks when latency climbs above the long-term average × tolerance, per request class', () => {
    const l = make({ limit: 40, max: 40, tolerance: 1.5, smoothing: 0.5 });
    for (let i = 0; i < 200; i++) {
      l.onSuccess(1000, 'low', 40);
      l.onSuccess(4000, 'high', 40);
    }
    expect(l.current).toBe(40);
    for (let i = 0; i < 10; i++) l.onSuccess(3000, 'low', 40);
    expect(l.current).toBeLessThan(40);
    expect(l.current).toBeLessThan(35);
  });
});
