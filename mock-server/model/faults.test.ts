import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { Faults } from './faults.ts';

describe('Faults', () => {
  it('applies timeline faults inside their windows only', () => {
    const faults = new Faults([{ kind: 'outage', at: 100, duration: 50, status: 503 }], 1000, createRng(1));
    expect(faults.decide(1099).outage).toBeUndefined();
    expect(faults.decide(1100).outage).toBe(503);
    expect(faults.decide(1149).outage).toBe(503);
    expect(faults.decide(1150).outage).toBeUndefined();
    expect(faults.list(1150)).toHaveLength(0);
  });

  it('draws rate faults at their rate and multiplies latency factors', () => {
    const faults = new Faults([], 0, createRng(2));
    faults.inject({ kind: 'error', at: 0, rate: 0.2, status: 500 }, 0);
    faults.inject({ kind: 'latency', at: 0, factor: 2 }, 0);
    faults.inject({ kind: 'latency', at: 0, factor: 1.5 }, 0);
    let errors = 0;
    for (let i = 0; i < 10_000; i++) {
      const d = faults.decide(1);
      if (d.error === 500) errors++;
      expect(d.latencyFactor).toBe(3);
    }
    expect(errors / 10_000).toBeCloseTo(0.2, 1.5);
  });

  it('clears admin faults but keeps the timeline unless asked', () => {
    const faults = new Faults([{ kind: 'reset', at: 0, rate: 1 }], 0, createRng(3));
    const stall = faults.inject({ kind: 'stall', at: 10, rate: 1, stallFor: 500 }, 0);
    expect(faults.decide(20)).toMatchObject({ reset: true, stallMs: 500 });
    expect(faults.remove(stall.id)).toBe(true);
    expect(faults.decide(20).stallMs).toBeUndefined();
    faults.inject({ kind: 'outage', at: 0, status: 503 }, 0);
    expect(faults.clear(20)).toBe(1);
    expect(faults.decide(20).reset).toBe(true);
    expect(faults.clear(20, true)).toBe(1);
    expect(faults.decide(20)).toEqual({ reset: false, latencyFactor: 1 });
  });
});
