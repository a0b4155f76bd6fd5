import { parseGoDuration } from '../core/duration.ts';
import type { Metric } from './metrics.ts';

export type ThresholdInput = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

export interface Threshold {
  metric: string;
  source: string;
  aggregation: string;
  operator: '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs: number;
  /** Last evaluation: failed (k6's `ok: false`). */
  failed: boolean;
}

const AGGREGATIONS: Record<string, RegExp> = {
  counter: /^(count|rate)$/,
  gauge: /^(value)$/,
  rate: /^(rate)$/,
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
};

/** k6's grammar: `aggregation operator value`, e.g. `p(95)<500`, `rate<0.01`, `count>=10`. */
export function parseThreshold(metric: string, input: ThresholdInput, type: Metric['type']): Threshold {
  const spec = typeof input === 'string' ? { threshold: input } : input;
  const m = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i.exec(spec.threshold);
  if (!m) throw new RangeError(`Expected threshold \`${metric}\` to read like "p(95)<500" or "rate<0.01", got \`${spec.threshold}\` (string)`);
  const aggregation = m[1]!;
  if (!AGGREGATIONS[type]!.test(aggregation)) {
    throw new RangeError(`Expected threshold \`${metric}\` (a ${type}) to aggregate by ${AGGREGATIONS[type]!.source.slice(2, -2).replace(/\\/g, '')}, got \`${aggregation}\` (string)`);
  }
  return {
    metric,
    source: spec.threshold,
    aggregation,
    operator: m[2] as Threshold['operator'],
    value: Number(m[3]),
    abortOnFail: spec.abortOnFail ?? false,
    delayAbortEvalMs: spec.delayAbortEval ? parseGoDuration(spec.delayAbortEval) : 0,
    failed: false,
  };
}

/** The aggregated value a threshold compares, from the metric's state (k6's sink values). */
export function aggregate(metric: Metric, aggregation: string, elapsedMs: number): number {
  switch (metric.type) {
    case 'counter':
      return aggregation === 'count' ? metric.sum : elapsedMs > 0 ? metric.sum / (elapsedMs / 1000) : 0;
    case 'gauge':
      return metric.value;
    case 'rate':
      return metric.rate;
    case 'trend':
      return metric.trend!.stat(aggregation);
  }
}

export function passes(t: Threshold, actual: number): boolean {
  switch (t.operator) {
    case '<':
      return actual < t.value;
    case '<=':
      return actual <= t.value;
    case '>':
      return actual > t.value;
    case '>=':
      return actual >= t.value;
    case '==':
    case '===':
      return actual === t.value;
    case '!=':
      return actual !== t.value;
  }
}
