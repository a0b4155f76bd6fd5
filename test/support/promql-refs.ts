import { K6_BUILTIN_METRICS, LOADTEST_METRICS, type MetricDef } from '../../src/metrics/catalogue.ts';
import * as catalogue from '../../src/metrics/catalogue.ts';
import { INTENDED_METRIC } from '../../src/loadgen/engine.ts';
import { k6PrometheusNames } from '../../src/loadgen/k6-prometheus.ts';

/** Every series name the code exports, with its labels: the catalogue's, histogram suffixes, and k6's remote-write names. */
export function exportedSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const group of [catalogue.MOCK_METRICS, catalogue.LIMITER_METRICS, catalogue.GATEWAY_METRICS] as Record<string, MetricDef>[]) {
    for (const def of Object.values(group)) {
      const labels = new Set<string>(def.labelNames);
      if (def.type === 'histogram') {
        series.set(`${def.name}_bucket`, new Set([...labels, 'le']));
        series.set(`${def.name}_sum`, labels);
        series.set(`${def.name}_count`, labels);
      } else {
        series.set(def.name, labels);
      }
    }
  }
  const k6Metrics = [
    ...Object.entries(K6_BUILTIN_METRICS).map(([name, type]) => ({ name, type })),
    ...Object.values(LOADTEST_METRICS).map((m) => ({ name: m.name, type: m.type })),
    { name: INTENDED_METRIC, type: 'trend' as const },
  ];
  for (const m of k6Metrics) for (const name of k6PrometheusNames(m)) series.set(name, new Set());
  return series;
}

export interface Reference {
  metric: string;
  labels: string[];
}

/** Metric names (ratelab_*, ratelab:*, k6_*) and the labels their selectors use, in a PromQL expression. */
export function referencesIn(expr: string): { refs: Reference[]; groupingLabels: string[] } {
  const refs: Reference[] = [];
  for (const m of expr.matchAll(/\b((?:ratelab[_:]|k6_)[a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    refs.push({ metric: m[1]!, labels });
  }
  const groupingLabels = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((g) => g[1]!.split(',').map((s) => s.trim()).filter(Boolean));
  return { refs, groupingLabels };
}

/** Problems with an expression against what is exported (and the recording rules defined). */
export function checkExpression(expr: string, series: Map<string, Set<string>>, recorded: Set<string>): string[] {
  const problems: string[] = [];
  const { refs, groupingLabels } = referencesIn(expr);
  const available = new Set<string>();
  for (const ref of refs) {
    if (ref.metric.includes(':')) {
      if (!recorded.has(ref.metric)) problems.push(`${ref.metric}: no recording rule defines it`);
      continue;
    }
    const labels = series.get(ref.metric);
    if (!labels) {
      problems.push(`${ref.metric}: no such metric is exported`);
      continue;
    }
    for (const l of labels) available.add(l);
    for (const l of ref.labels) if (!labels.has(l)) problems.push(`${ref.metric}{${l}}: the metric has no label ${l}`);
  }
  const recordedLabels = refs.some((r) => r.metric.includes(':'));
  if (!recordedLabels) for (const l of groupingLabels) if (!available.has(l)) problems.push(`by (${l}): no metric in \`${expr}\` has label ${l}`);
  return problems;
}
