import type { Background } from '../profiles/schema.ts';

/**
 * Share of the GPU pool held by other tenants at `elapsed` clock ms into the run
 * (durations already time-scaled). Background load is a utilisation curve rather than
 * simulated requests: it costs nothing per request and is the same on every seed.
 */
export function backgroundUtilization(background: Background, elapsed: number): number {
  switch (background.kind) {
    case 'none':
      return 0;
    case 'constant':
      return background.utilization;
    case 'diurnal': {
      const angle = 2 * Math.PI * (elapsed / background.period + background.phase);
      return clamp01(background.mean + background.amplitude * Math.sin(angle));
    }
    case 'spiky': {
      const intoCycle = elapsed % background.every;
      return intoCycle >= background.every - background.duration ? background.peak : background.base;
    }
  }
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
