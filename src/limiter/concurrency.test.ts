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

  it('after slow start, grows additively while in use, and not when idle', () => {
    const l = make({ limit: 10, max: 12, slowStart: false });
    for (let i = 0; i < 11; i++) l.onSuccess(1000, 'a', 10);
    expect(l.current).toBe(11);
    for (let i = 0; i < 100; i++) l.onSuccess(1000, 'a', 12);
    expect(l.current).toBe(12);
    const idle = make({ limit: 10 });
    for (let i = 0; i < 100; i++) idle.onSuccess(1000, 'a', 2);
    expect(idle.current).toBe(10);
  });

  it('starts slow, as TCP does: doubles each round trip while every slot is busy', () => {
    const l = make({ limit: 8 });
    // One round trip: each of the 8 running requests ends with all slots busy.
    const roundTrip = () => {
      const n = l.current;
      for (let i = 0; i < n; i++) l.onSuccess(30_000, 'a', l.current);
    };
    roundTrip();
    expect(l.current).toBe(16);
    roundTrip();
    roundTrip();
    expect(l.current).toBe(64);
    // The same 3 round trips without slow start: about +1 each.
    const additive = make({ limit: 8, slowStart: false });
    for (let r = 0; r < 3; r++) for (let i = 0, n = additive.current; i < n; i++) additive.onSuccess(30_000, 'a', additive.current);
    expect(additive.current).toBeGreaterThanOrEqual(10);
    expect(additive.current).toBeLessThanOrEqual(11);
  });

  it('grows in slow start only while the limit binds, and caps at max', () => {
    const idle = make({ limit: 8 });
    for (let i = 0; i < 100; i++) idle.onSuccess(30_000, 'a', 5);
    expect(idle.current).toBe(8);
    const capped = make({ limit: 8, max: 20 });
    for (let i = 0; i < 100; i++) capped.onSuccess(30_000, 'a', capped.current);
    expect(capped.current).toBe(20);
  });

  it('leaves slow start at the first contention answer, and grows +1 per round trip after it', () => {
    const l = make({ limit: 32, decrease: 0.5 }) as ReturnType<typeof make> & { inSlowStart: boolean };
    expect(l.inSlowStart).toBe(true);
    l.onContention();
    expect(l.inSlowStart).toBe(false);
    expect(l.current).toBe(16);
    for (let i = 0; i < 20; i++) l.onSuccess(30_000, 'a', 16);
    expect(l.current).toBe(17);
  });

  it('leaves slow start at the first latency gradient: queueing upstream, before any 503', () => {
    const l = make({ limit: 16, max: 200, tolerance: 1.5 }) as ReturnType<typeof make> & { inSlowStart: boolean };
    for (let i = 0; i < 20; i++) l.onSuccess(1000, 'a', l.current);
    expect(l.inSlowStart).toBe(true);
    const before = l.current;
    for (let i = 0; i < 15; i++) l.onSuccess(5000, 'a', l.current);
    expect(l.inSlowStart).toBe(false);
    expect(l.current).toBeLessThan(before + 15);
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
