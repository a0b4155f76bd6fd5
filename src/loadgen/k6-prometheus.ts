import { Counter, Gauge, type Registry } from 'prom-client';
import type { Metric, Metrics } from './metrics.ts';

/** Trend stats exported per trend, as k6's remote write names them (`p(99)` → `p99`). */
export const K6_TREND_STATS = ['p(99)', 'p(95)', 'p(90)', 'med', 'avg', 'min', 'max'] as const;

const statSuffix = (stat: string): string => stat.replace(/^p\((\d+)(?:\.(\d+))?\)$/, (_, a: string, b?: string) => `p${a}${b ?? ''}`);

/** The Prometheus names k6's remote-write output gives a metric. */
export function k6PrometheusNames(m: Pick<Metric, 'name' | 'type'>): string[] {
  switch (m.type) {
    case 'counter':
      return [`k6_${m.name}_total`];
    case 'gauge':
      return [`k6_${m.name}`];
    case 'rate':
      return [`k6_${m.name}_rate`];
    case 'trend':
      return K6_TREND_STATS.map((s) => `k6_${m.name}_${statSuffix(s)}`);
  }
}

/**
 * The engine's live metrics under k6's Prometheus remote-write names (k6_http_reqs_total,
 * k6_http_req_duration_p95 in seconds, k6_ratelab_provider_429_rate, …), read at scrape
 * time, so one load-test dashboard serves k6 and the embedded engine.
 */
export function exposeK6Metrics(registry: Registry, metrics: Metrics): void {
  for (const m of metrics.all()) {
    if (m.name.includes('{')) continue; // sub-metrics are k6 thresholds' business, not exported series
    const help = `k6 ${m.type} ${m.name} (ratelab embedded engine)`;
    switch (m.type) {
      case 'counter':
        new Counter({ name: k6PrometheusNames(m)[0]!, help, registers: [registry], collect() { this.reset(); this.inc(m.sum); } });
        break;
      case 'gauge':
        new Gauge({ name: k6PrometheusNames(m)[0]!, help, registers: [registry], collect() { this.set(m.value); } });
        break;
      case 'rate':
        new Gauge({ name: k6PrometheusNames(m)[0]!, help, registers: [registry], collect() { this.set(m.rate); } });
        break;
      case 'trend': {
        const toUnit = m.contains === 'time' ? 1 / 1000 : 1;
        K6_TREND_STATS.forEach((stat, i) => {
          new Gauge({ name: k6PrometheusNames(m)[i]!, help: `${help}, ${stat}${m.contains === 'time' ? ' in seconds' : ''}`, registers: [registry], collect() { this.set(m.trend!.stat(stat) * toUnit); } });
        });
      }
    }
  }
}
