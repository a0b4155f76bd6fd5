import { describe, expect, it } from 'vitest';
import { gcraAvailable, gcraClampTo, gcraParams, gcraTake, gcraWait } from './gcra.ts';

describe('GCRA', () => {
  const p = gcraParams(60, 60_000, 10); // one unit a second, bursts of 10

  it('lets a burst through after idle, then paces at the rate', () => {
    const s = { tat: 0 };
    for (let i = 0; i < 10; i++) {
      expect(gcraWait(s, p, 1, 1000)).toBe(0);
      gcraTake(s, p, 1, 1000);
    }
    expect(gcraWait(s, p, 1, 1000)).toBe(1000);
    expect(gcraWait(s, p, 3, 1000)).toBe(3000);
    expect(gcraAvailable(s, p, 1000)).toBe(0);
    expect(gcraAvailable(s, p, 4000)).toBe(3);
  });

  it('never admits a cost above the burst', () => {
    expect(gcraWait({ tat: 0 }, p, 11, 0)).toBe(Infinity);
  });

  it('clamps to what the provider says remains, only downwards', () => {
    const s = { tat: 0 };
    expect(gcraClampTo(s, p, 4, 0)).toBe(true);
    expect(gcraAvailable(s, p, 0)).toBeCloseTo(4);
    expect(gcraClampTo(s, p, 8, 0)).toBe(false);
    expect(gcraAvailable(s, p, 0)).toBeCloseTo(4);
  });
});
