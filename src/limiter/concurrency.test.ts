import { describe, expect, it } from 'vitest';
import { parseLimiterConfig } from './config.ts';
import { ConcurrencyLimit } from './concurrency.ts';

const make = (c: object) => new ConcurrencyLimit(parseLimiterConfig({ concurrency: c }).concurrency);

describe('ConcurrencyLimit', () => {
  it('stays put when fixed', () => {
    const l = make({ mode: 'fixed', limit: 5 });
    l.onContention();
    l.onSuccess(10, 'a', 5, 0);
    expect(l.current).toBe(5);
  });

  it('drops multiplicatively on contention, within bounds', () => {
    const l = make({ limit: 100, min: 60, max: 200, decrease: 0.9 });
    l.onContention();
    expect(l.current).toBe(90);
    for (let i = 0; i < 20; i++) l.onContention();
    expect(l.current).toBe(60);
  });

  it('grows additively while in use and not slower than the baseline', () => {
    const l = make({ limit: 10, max: 12 });
    for (let i = 0; i < 11; i++) l.onSuccess(1000, 'a', 10, i);
    expect(l.current).toBe(11);
    for (let i = 0; i < 100; i++) l.onSuccess(1000, 'a', 12, i);
    expect(l.current).toBe(12);
    const idle = make({ limit: 10 });
    for (let i = 0; i < 100; i++) idle.onSuccess(1000, 'a', 2, i);
    expect(idle.current).toBe(10);
  });

  it('shrinks on latency above baseline × tolerance, per request class', () => {
    const l = make({ limit: 40, tolerance: 1.5, smoothing: 0.5 });
    l.onSuccess(1000, 'low', 40, 0);
    l.onSuccess(4000, 'high', 40, 0);
    expect(l.current).toBe(40);
    l.onSuccess(3000, 'low', 40, 1);
    expect(l.current).toBe(30);
  });

  it('forgets the baseline after its window', () => {
    const l = make({ limit: 40, tolerance: 1.5, baselineWindow: 1000 });
    l.onSuccess(1000, 'a', 40, 0);
    l.onSuccess(2000, 'a', 40, 2000);
    expect(l.current).toBe(40);
  });
});
