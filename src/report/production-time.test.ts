import { describe, expect, it } from 'vitest';
import type { SummaryData } from './k6-summary.ts';
import { productionTime, readable, scaleThreshold, thresholdInProduction, thresholdValue } from './production-time.ts';
import { textSummary } from './text-summary.ts';

describe('production time', () => {
  it('scales a --threshold on a duration metric to the run, and leaves the others alone', () => {
    expect(scaleThreshold('http_req_duration', 'p(95)<30000', 0.1)).toBe('p(95)<3000');
    expect(scaleThreshold('http_req_duration{expected_response:true}', 'p(99) <= 90000', 0.01)).toBe('p(99) <= 900');
    expect(scaleThreshold('ratelab_queue_wait', 'avg<60000', 0.5)).toBe('avg<30000');
    expect(scaleThreshold('http_req_failed', 'rate<0.01', 0.1)).toBe('rate<0.01');
    expect(scaleThreshold('dropped_iterations', 'count<10', 0.1)).toBe('count<10');
  });

  it('reads what ran scaled in production time, the scaled time beside it', () => {
    expect(thresholdInProduction('http_req_duration', 'p(95)<7200', 0.02)).toBe('p(95)<6m');
    expect(productionTime(6_250, 0.02)).toBe('5m12.5s (6.25s at scale 0.02)');
    expect(productionTime(6_250, 1)).toBe('6.25s');
    expect(readable(0.8)).toBe('800.00µs');
  });

  it('the text summary shows durations and rates in production time, says so once, and keeps the data as run', () => {
    const data = {
      root_group: { name: '', path: '', id: '', groups: [], checks: [] },
      options: { summaryTrendStats: ['p(95)'], summaryTimeUnit: '', noColor: false },
      state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 60_000 },
      metrics: {
        http_req_duration: { type: 'trend', contains: 'time', values: { 'p(95)': 31_210 }, thresholds: { 'p(95)<30000': { ok: false } } },
        http_reqs: { type: 'counter', contains: 'default', values: { count: 1000, rate: 16.7 } },
      },
    } as unknown as SummaryData;
    const text = textSummary(data, 'ratelab peak', 0.1);
    expect(text).toContain('Times and rates below are production time (scale 1): the run took 10m (1m at scale 0.1)');
    expect(text).toContain("✗ 'p(95)<5m' p(95)=5m12.1s (31.21s at scale 0.1)");
    expect(text).toMatch(/http_reqs \.+: 1000 1\.670\/s/);
    expect(text).toContain('run 10m (1m at scale 0.1)');
    expect(data.metrics.http_req_duration!.values['p(95)']).toBe(31_210);
  });

  it('shows a threshold\'s value one way for the console and the report: rates in %, durations in production time', () => {
    expect(thresholdValue({ type: 'rate', contains: 'default', values: { rate: 0.0635 } }, 'rate<0.1', 0.1)).toBe('6.35%');
    expect(thresholdValue({ type: 'trend', contains: 'time', values: { 'p(95)': 31_210 } }, 'p(95)<30000', 0.1)).toBe('5m12.1s (31.21s at scale 0.1)');
    expect(thresholdValue({ type: 'counter', contains: 'default', values: { count: 3 } }, 'count<8', 0.1)).toBe('3');
    expect(thresholdValue({ type: 'trend', contains: 'time', values: {} }, 'p(99)<1', 1)).toBe('');
  });
});
