import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
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
