import { CHECKS } from '../../loadtests/lib/answers.ts';
import type { Metric } from '../loadgen/metrics.ts';
import type { RunResult } from '../loadgen/engine.ts';
import type { RunFigures } from './run-facts.ts';

export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

/** One metric in k6's handleSummary data. */
export interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'time' | 'data' | 'default';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** k6's `handleSummary(data)` argument, with ratelab's own facts under `ratelab`. */
export interface SummaryData {
  root_group: { name: string; path: string; id: string; groups: unknown[]; checks: { name: string; path: string; id: string; passes: number; fails: number }[] };
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, SummaryMetric>;
  ratelab?: RunFigures;
}

function valuesOf(m: Metric, durationMs: number, trendStats: readonly string[]): Record<string, number> {
  switch (m.type) {
    case 'counter':
      return { count: m.sum, rate: durationMs > 0 ? m.sum / (durationMs / 1000) : 0 };
    case 'gauge':
      return { value: m.value, min: Number.isFinite(m.gaugeMin) ? m.gaugeMin : 0, max: Number.isFinite(m.gaugeMax) ? m.gaugeMax : 0 };
    case 'rate':
      return { rate: m.rate, passes: m.passes, fails: m.fails };
    case 'trend':
      return Object.fromEntries(trendStats.map((stat) => [stat, m.trend!.stat(stat)]));
  }
}

/** A metric is reported once it has seen a sample (as k6 does), or when a threshold names it. */
function seen(m: Metric): boolean {
  return m.sum !== 0 || m.passes + m.fails > 0 || (m.trend?.count ?? 0) > 0 || Number.isFinite(m.gaugeMax);
}

/** The summary in k6's handleSummary shape, so tools that read k6's JSON read ours. */
export function summaryData(run: RunResult, opts: { trendStats?: string[]; checkName?: string } = {}): SummaryData {
  const trendStats = opts.trendStats ?? DEFAULT_TREND_STATS;
  const metrics: Record<string, SummaryMetric> = {};
  const thresholdsByMetric = new Map<string, Record<string, { ok: boolean }>>();
  for (const t of run.thresholds) {
    const entry = thresholdsByMetric.get(t.metric) ?? {};
    entry[t.source] = { ok: !t.failed };
    thresholdsByMetric.set(t.metric, entry);
  }
  for (const m of run.metrics.all()) {
    const thresholds = thresholdsByMetric.get(m.name);
    if (!seen(m) && !thresholds) continue;
    metrics[m.name] = { type: m.type, contains: m.contains, values: valuesOf(m, run.durationMs, trendStats), ...(thresholds ? { thresholds } : {}) };
  }
  const checks = run.metrics.get('checks');
  const checkName = opts.checkName ?? CHECKS.clear;
  // Each check by name, as k6's root_group lists them, where the run kept them apart.
  const named = Object.values(CHECKS).flatMap((name) => {
    const m = run.metrics.get(`checks{check:${name}}`);
    return m && m.passes + m.fails > 0 ? [{ name, path: `::${name}`, id: `ratelab-check-${name.replace(/\W+/g, '-')}`, passes: m.passes, fails: m.fails }] : [];
  });
  return {
    root_group: {
      name: '',
      path: '',
      id: 'd41d8cd98f00b204e9800998ecf8427e',
      groups: [],
      checks: named.length > 0 ? named : checks && checks.passes + checks.fails > 0 ? [{ name: checkName, path: `::${checkName}`, id: 'ratelab-check', passes: checks.passes, fails: checks.fails }] : [],
    },
    options: { summaryTrendStats: trendStats, summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: Boolean(process.stdout.isTTY), isStdErrTTY: Boolean(process.stderr.isTTY), testRunDurationMs: run.durationMs },
    metrics,
  };
}
