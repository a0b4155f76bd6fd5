import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { exposeK6Metrics, k6PrometheusNames } from './k6-prometheus.ts';
import { Metrics } from './metrics.ts';

describe("k6's Prometheus remote-write names", () => {
  it('names counters, gauges, rates and trend stats the way k6 does', () => {
    expect(k6PrometheusNames({ name: 'http_reqs', type: 'counter' })).toEqual(['k6_http_reqs_total']);
    expect(k6PrometheusNames({ name: 'vus', type: 'gauge' })).toEqual(['k6_vus']);
    expect(k6PrometheusNames({ name: 'http_req_failed', type: 'rate' })).toEqual(['k6_http_req_failed_rate']);
    expect(k6PrometheusNames({ name: 'http_req_duration', type: 'trend' })).toEqual([
      'k6_http_req_duration_p99',
      'k6_http_req_duration_p95',
      'k6_http_req_duration_p90',
      'k6_http_req_duration_med',
      'k6_http_req_duration_avg',
      'k6_http_req_duration_min',
      'k6_http_req_duration_max',
    ]);
  });

  it('serves the live values at scrape time, time trends in seconds', async () => {
    const metrics = new Metrics();
    metrics.define('http_reqs', 'counter');
    metrics.define('http_req_duration', 'trend', 'time');
    metrics.define('http_req_failed', 'rate');
    metrics.define('vus', 'gauge');
    metrics.subMetric('http_req_duration{status:200}');
    const registry = new Registry();
    exposeK6Metrics(registry, metrics);
    for (let i = 1; i <= 100; i++) {
      metrics.add('http_reqs', 1);
      metrics.add('http_req_duration', i * 10, { status: '200' });
      metrics.add('http_req_failed', i % 10 === 0 ? 1 : 0);
    }
    metrics.add('vus', 7);
    const text = await registry.metrics();
    expect(text).toContain('k6_http_reqs_total 100');
    expect(text).toContain('k6_vus 7');
    expect(text).toContain('k6_http_req_failed_rate 0.1');
    expect(Number(/k6_http_req_duration_p95 ([\d.]+)/.exec(text)![1])).toBeCloseTo(0.95, 2);
    expect(text).toContain('k6_http_req_duration_max 1');
    expect(text).not.toContain('status:200');
    metrics.add('http_reqs', 5);
    expect(await registry.metrics()).toContain('k6_http_reqs_total 105');
  });
});
