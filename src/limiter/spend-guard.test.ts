import { describe, expect, it } from 'vitest';
import { parseLimiterConfig } from './config.ts';
import { SpendGuard } from './spend-guard.ts';

const guard = (budget?: number) => new SpendGuard(parseLimiterConfig({ spend: { budget, period: '1h' } }).spend);

describe('SpendGuard', () => {
  it('warns at 80 %, admits only high priority past 95 %, refuses at 100 %', () => {
    const g = guard(10);
    expect(g.reserve(7.9, 2, 0)).toEqual({ ok: true });
    expect(g.warning(0)).toBe(false);
    expect(g.reserve(0.2, 2, 0)).toEqual({ ok: true });
    expect(g.warning(0)).toBe(true);
    expect(g.reserve(1.5, 2, 0)).toEqual({ ok: false, reason: 'high_only', resetsInMs: 3_600_000 });
    expect(g.reserve(1.5, 1, 0)).toEqual({ ok: true });
    expect(g.reserve(0.5, 0, 60_000)).toEqual({ ok: false, reason: 'exhausted', resetsInMs: 3_540_000 });
    expect(g.used(0)).toBeCloseTo(0.96);
  });

  it('releases failed calls and starts afresh each period', () => {
    const g = guard(1);
    g.reserve(0.9, 2, 0);
    g.release(0.9, 0);
    expect(g.used(0)).toBe(0);
    g.reserve(1, 0, 0);
    expect(g.reserve(0.01, 0, 1000).ok).toBe(false);
    expect(g.reserve(0.01, 0, 3_600_000).ok).toBe(true);
  });

  it('is off without a budget', () => {
    const g = guard();
    expect(g.enabled).toBe(false);
    expect(g.reserve(1e9, 3, 0)).toEqual({ ok: true });
  });
});
