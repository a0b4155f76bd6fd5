import { describe, expect, it } from 'vitest';
import { Metrics } from '../loadgen/metrics.ts';
import { timeToRecover, TimeSeries, type SeriesPoint } from './timeseries.ts';
import { percentileOf } from './trailing-window.ts';

describe('TimeSeries', () => {
  it('turns samples into per-second rates and interval percentiles, one point per interval (no answers: no percentile, not 0 ms)', () => {
    const metrics = new Metrics();
    metrics.define('http_req_duration', 'trend', 'time');
    metrics.define('ratelab_provider_429', 'rate');
    metrics.define('ratelab_gateway_refusals', 'rate');
    const series = new TimeSeries(metrics, 0);
    for (let i = 1; i <= 100; i++) {
      series.offered(true);
      const status = i <= 90 ? '200' : i <= 95 ? '429' : '503';
      metrics.add('http_req_duration', i, { status, expected_response: String(status === '200') });
      metrics.add('ratelab_provider_429', status === '429' ? 1 : 0);
      metrics.add('ratelab_gateway_refusals', status === '503' ? 1 : 0);
    }
    series.offered(false);
    series.sample(2_000, 7);
    expect(series.points).toEqual([{ t: 2, offered: 50.5, completed: 50, ok: 45, provider429: 2.5, refusals: 2.5, errors: 0, dropped: 0.5, p50: 50, p95: 95, p99: 99, vus: 7 }]);
    series.sample(3_000, 0);
    expect(series.points[1]).toMatchObject({ t: 3, completed: 0, p95: null });
  });

  it('nearest-rank percentiles and time to recover', () => {
    expect(percentileOf([], 95)).toBeNull();
    expect(percentileOf([5], 99)).toBe(5);
    expect(percentileOf([1, 2, 3, 4], 50)).toBe(2);
    const point = (t: number, ok: number, completed: number) => ({ t, ok, completed }) as SeriesPoint;
    expect(timeToRecover([point(1, 0, 10), point(2, 5, 10), point(3, 9, 10), point(4, 10, 10)], 1.5)).toBe(1.5);
    expect(timeToRecover([point(2, 1, 10)], 1)).toBeUndefined();
  });

  it('with a window, one lucky interval among failures is not a recovery', () => {
    const point = (t: number, ok: number, completed: number) => ({ t, ok, completed }) as SeriesPoint;
    // Outage ends at 1 s; at 1.2 s one answer comes back fine, then failures until 2.0 s.
    const points = [point(1, 0, 10), point(1.2, 5, 5), point(1.4, 0, 10), point(1.6, 0, 10), point(1.8, 0, 10), point(2, 10, 10), point(2.2, 10, 10), point(2.4, 10, 10)];
    expect(timeToRecover(points, 1)).toBeCloseTo(0.2, 9);
    expect(timeToRecover(points, 1, 0.9, 0.4)).toBeCloseTo(1.0, 9);
  });
});
