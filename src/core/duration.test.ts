import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration, toMs } from './duration.ts';

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [12, '12ms'],
    [1000, '1s'],
    [360_000, '6m0s'],
    [8640, '8.64s'],
    [86_400, '1m26.4s'],
    [3_723_500, '1h2m3.5s'],
    [1.5, '1.5ms'],
    [0.0005, '500ns'],
    [0.25, '250µs'],
    [-1500, '-1.5s'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['12ms', 12],
    ['1s', 1000],
    ['6m0s', 360_000],
    ['1m26.4s', 86_400],
    ['1h2m3.5s', 3_723_500],
    ['500us', 0.5],
    ['250µs', 0.25],
    ['-2s', -2000],
    ['.5s', 500],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5', 'ms', '1x', '1s2', 'abc', '1.s.'])('rejects %j with a clear message', (text) => {
    expect(() => parseGoDuration(text)).toThrow(/Expected a Go duration like "1m30s", got `/);
  });

  it('round-trips what it formats', () => {
    for (const ms of [1, 999, 1001, 59_999, 60_000, 61_234.5, 7_200_000]) {
      expect(parseGoDuration(formatGoDuration(ms))).toBeCloseTo(ms, 6);
    }
  });

  it('toMs accepts numbers as milliseconds', () => {
    expect(toMs(250)).toBe(250);
    expect(toMs('2m')).toBe(120_000);
  });
});
