import { describe, expect, it } from 'vitest';
import { Metrics } from '../loadgen/metrics.ts';
import { TimeSeries } from './timeseries.ts';
import { createRng } from '../core/rng.ts';
import { percentileOf, TrailingWindow, type IntervalCounts } from './trailing-window.ts';

const counts = (completed: number, ok = completed): IntervalCounts => ({ offered: completed, completed, ok, provider429: 0, refusals: 0, errors: completed - ok, dropped: 0 });

describe('TrailingWindow', () => {
  it('gives rates over the window and percentiles over its answers, exactly', () => {
    const w = new TrailingWindow(1_000);
    // 200 ms intervals: 2 answers, none, 3, none, 1 — bursty, as image answers are.
    expect(w.add(0, 200, counts(2), [100, 300])).toMatchObject({ completed: 10, p50: 100, p99: 300 });
    w.add(200, 400, counts(0), []);
    w.add(400, 600, counts(3), [200, 400, 500]);
    w.add(600, 800, counts(0), []);
    const full = w.add(800, 1_000, counts(1, 0), [900]);
    // 6 answers in 1 s; 5 of them images. Sorted latencies 100 200 300 400 500 900.
    expect(full).toMatchObject({ completed: 6, ok: 5, errors: 1, p50: 300, p95: 900, p99: 900 });
    // The first interval leaves: 4 answers in the last second.
    expect(w.add(1_000, 1_200, counts(0), [])).toMatchObject({ completed: 4, p50: 400 });
  });

  it('an empty window has rates of 0 and no percentiles', () => {
    const w = new TrailingWindow(500);
    w.add(0, 100, counts(1), [50]);
    expect(w.add(100, 700, counts(0), [])).toMatchObject({ completed: 0, p50: null, p95: null, p99: null });
  });
});

describe('TrailingWindow against a plain recount', () => {
  it('matches counting and sorting the window from scratch at every step (random intervals)', () => {
    const rng = createRng(5);
    const w = new TrailingWindow(1_000);
    const all: { from: number; to: number; values: number[] }[] = [];
    let at = 0;
    for (let step = 0; step < 300; step++) {
      const from = at;
      at += 50 + Math.floor(rng.next() * 300);
      const values = Array.from({ length: Math.floor(rng.next() * 6) }, () => Math.round(rng.next() * 1000));
      all.push({ from, to: at, values: [...values] });
      const got = w.add(from, at, counts(values.length), values);
      // From scratch: the intervals that end after the window's start, the oldest counted whole.
      const held = all.filter((i, k) => i.to > at - 1_000 || k === all.length - 1);
      const sorted = held.flatMap((i) => i.values).sort((a, b) => a - b);
      const seconds = (at - held[0]!.from) / 1000;
      expect(got.completed).toBeCloseTo(sorted.length / seconds, 9);
      expect([got.p50, got.p95, got.p99]).toEqual([percentileOf(sorted, 50), percentileOf(sorted, 95), percentileOf(sorted, 99)]);
    }
  });
});

describe('TimeSeries with a trailing window', () => {
  it('keeps each interval as it was and adds the trailing figures beside it', () => {
    const metrics = new Metrics();
    metrics.define('http_req_duration', 'trend', 'time');
    const series = new TimeSeries(metrics, 0, 1_000);
    for (let t = 1; t <= 10; t++) {
      // One answer every other 100 ms interval, at 5/s on average.
      if (t % 2 === 0) metrics.add('http_req_duration', t * 10, { status: '200' });
      series.sample(t * 100, 1);
    }
    const rates = series.points.map((p) => p.completed);
    expect(rates).toEqual([0, 10, 0, 10, 0, 10, 0, 10, 0, 10]);
    expect(series.points.at(-1)!.trailing).toMatchObject({ completed: 5, ok: 5, p50: 60, p99: 100 });
    expect(series.points[4]!.p50).toBeNull();
    expect(series.points[4]!.trailing).toMatchObject({ completed: 4, p50: 20 });
  });
});
