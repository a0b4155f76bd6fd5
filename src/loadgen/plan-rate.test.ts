import { describe, expect, it } from 'vitest';
import { scenario } from '../../loadtests/scenarios.ts';
import { peakArrivalsPerSecond, startingVus } from './plan-rate.ts';

describe('peakArrivalsPerSecond', () => {
  it('reads a constant rate per its time unit and a ramp at its highest stage, summed over scenarios', () => {
    expect(
      peakArrivalsPerSecond({
        scenarios: {
          a: { executor: 'constant-arrival-rate', rate: 30, timeUnit: '100ms', duration: '1s', preAllocatedVUs: 1 },
          b: { executor: 'ramping-arrival-rate', startRate: 50, timeUnit: '1m', stages: [{ duration: '1s', target: 600 }, { duration: '1s', target: 120 }], preAllocatedVUs: 1 },
          c: { executor: 'constant-vus', vus: 40, duration: '1s' },
        },
        thresholds: {},
      }),
    ).toBe(300 + 10);
  });

  it('gives a built-in scenario its rate on the run clock: a time scale of 0.01 makes it 100× faster', () => {
    const at1 = peakArrivalsPerSecond(scenario('peak', { capacity: 60, timeScale: 1 }).options);
    const at001 = peakArrivalsPerSecond(scenario('peak', { capacity: 60, timeScale: 0.01 }).options);
    expect(at1).toBeGreaterThan(1);
    expect(at001 / at1).toBeCloseTo(100, 6);
  });
});

describe('startingVus', () => {
  it('counts pre-allocated VUs and the closed models’ (start) VUs, defaulting to 1', () => {
    expect(
      startingVus({
        scenarios: {
          a: { executor: 'constant-arrival-rate', rate: 1, duration: '1s', preAllocatedVUs: 20, maxVUs: 50 },
          b: { executor: 'ramping-vus', startVUs: 3, stages: [{ duration: '1s', target: 9 }] },
          c: { executor: 'shared-iterations', iterations: 5 },
        },
        thresholds: {},
      }),
    ).toBe(24);
  });
});
