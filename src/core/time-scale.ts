import { expectationMessage } from './validation.ts';

/**
 * The one time-scale knob. Every duration of a run (mock latencies and windows, limiter
 * windows, scenario stages) is multiplied by `factor`, so a 10-minute peak runs in 6 s at
 * 0.01. What a client reads (headers, bodies, reports) is already in the client's time,
 * because it is derived from clock durations that were scaled on the way in.
 */
export interface TimeScale {
  readonly factor: number;
  /** A duration of the modelled world (profile, scenario) → clock milliseconds. */
  toClock(ms: number): number;
  /** Clock milliseconds → the modelled world's duration (for reports at scale 1). */
  toModel(ms: number): number;
}

export const MIN_TIME_SCALE = 1e-6;
export const MAX_TIME_SCALE = 1e3;

export function parseTimeScale(value: unknown, field = 'timeScale'): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < MIN_TIME_SCALE || n > MAX_TIME_SCALE) {
    throw new RangeError(expectationMessage(field, `a number from ${MIN_TIME_SCALE} to ${MAX_TIME_SCALE}`, value));
  }
  return n;
}

export function createTimeScale(factor: number = 1): TimeScale {
  const f = parseTimeScale(factor);
  return {
    factor: f,
    toClock: (ms) => ms * f,
    toModel: (ms) => ms / f,
  };
}

/** `TIME_SCALE` from the environment, default 1. */
export function timeScaleFromEnv(env: Record<string, string | undefined> = process.env): TimeScale {
  return createTimeScale(env.TIME_SCALE === undefined ? 1 : parseTimeScale(env.TIME_SCALE, 'TIME_SCALE'));
}
