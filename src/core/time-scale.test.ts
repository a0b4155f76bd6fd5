import { describe, expect, it } from 'vitest';
import { createTimeScale, parseTimeScale, timeScaleFromEnv } from './time-scale.ts';

describe('time scale', () => {
  it('multiplies model durations into clock time and back', () => {
    const scale = createTimeScale(0.01);
    expect(scale.toClock(25_000)).toBe(250);
    expect(scale.toModel(250)).toBe(25_000);
  });

  it('reads TIME_SCALE and defaults to real time', () => {
    expect(timeScaleFromEnv({}).factor).toBe(1);
    expect(timeScaleFromEnv({ TIME_SCALE: '0.05' }).factor).toBe(0.05);
  });

  it.each([0, -1, 'fast', Number.NaN, 1e9])('rejects %j naming the field and value', (value) => {
    expect(() => parseTimeScale(value, '--time-scale')).toThrow(/^Expected `--time-scale` to be a number from 0.000001 to 1000, got `/);
  });
});
