import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { latencyBuckets, type MetricDef } from './catalogue.ts';

/** Registers catalogue entries; the only place prom-client metric objects are built from names. */
export function counter<L extends string>(registry: Registry, d: MetricDef<L>): Counter<L> {
  return new Counter({ name: d.name, help: d.help, labelNames: [...d.labelNames], registers: [registry] });
}

export function gauge<L extends string>(registry: Registry, d: MetricDef<L>, collect?: (g: Gauge<L>) => void): Gauge<L> {
  return new Gauge({
    name: d.name,
    help: d.help,
    labelNames: [...d.labelNames],
    registers: [registry],
    ...(collect ? { collect(this: Gauge<L>) { collect(this); } } : {}),
  });
}

export function histogram<L extends string>(registry: Registry, d: MetricDef<L>, timeScale: number): Histogram<L> {
  return new Histogram({
    name: d.name,
    help: d.help,
    labelNames: [...d.labelNames],
    buckets: latencyBuckets(timeScale),
    registers: [registry],
  });
}

/** A latency histogram whose observations may carry the trace id of the request they time. */
export interface TracedHistogram<L extends string> {
  observe(labels: Partial<Record<L, string>>, seconds: number, traceId?: string): void;
}

/**
 * `histogram`, with exemplars when `exemplars` is set: each bucket keeps its latest sampled
 * observation's `trace_id` (the label Grafana's exemplar links read), exposed in OpenMetrics
 * only, so the registry is switched to OpenMetrics first. Without exemplars it is a plain
 * histogram and observations ignore the id.
 */
export function tracedHistogram<L extends string>(registry: Registry, d: MetricDef<L>, timeScale: number, exemplars: boolean): TracedHistogram<L> {
  if (!exemplars) {
    const h = histogram(registry, d, timeScale);
    return { observe: (labels, seconds) => h.observe(labels, seconds) };
  }
  // prom-client types a registry by the format it was made with; this one changes format in place.
  (registry as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const h = new Histogram<L>({ name: d.name, help: d.help, labelNames: [...d.labelNames], buckets: latencyBuckets(timeScale), registers: [registry], enableExemplars: true });
  return {
    observe: (labels, seconds, traceId) =>
      // prom-client types exemplar labels as the metric's own label names; `trace_id` is not one of them.
      h.observe({ labels, value: seconds, ...(traceId ? { exemplarLabels: { trace_id: traceId } as unknown as Partial<Record<L, string>> } : {}) }),
  };
}
