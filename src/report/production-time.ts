import { humanDuration } from '../core/duration.ts';
import { parseMetricName } from '../loadgen/metrics.ts';
import { TIME_METRICS } from '../loadgen/engine.ts';

/** Whether a metric (or a sub-metric of one, `http_req_duration{status:200}`) holds durations. */
export const isTimeMetric = (name: string): boolean => TIME_METRICS.has(parseMetricName(name).parent);

const EXPR = /^(\s*[a-z]+(?:\([\d.]+\))?\s*(?:<=|>=|==|!=|<|>)\s*)(\d+(?:\.\d+)?)(\s*)$/;

/**
 * A threshold on a duration metric with its bound multiplied by `factor`: `p(95)<30000` in
 * production ms becomes `p(95)<3000` to run at scale 0.1. Other expressions are left alone.
 */
export function scaleThreshold(metric: string, expr: string, factor: number): string {
  if (!isTimeMetric(metric) || factor === 1) return expr;
  const m = EXPR.exec(expr);
  if (!m) return expr;
  return `${m[1]}${Number((Number(m[2]) * factor).toPrecision(12))}${m[3]}`;
}

/** A duration for a person: minutes as 5m12.5s, seconds and below as k6 writes them (6.25s, 40.62ms, 813.00µs). */
export function readable(ms: number): string {
  if (ms >= 60_000) return humanDuration(ms);
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : ms >= 1 ? `${ms.toFixed(2)}ms` : `${(ms * 1000).toFixed(2)}µs`;
}

/** The statistic a threshold expression tests: `p(95)` of `p(95)<7200`. */
export const thresholdStat = (expr: string): string => /^\s*([a-z]+(?:\([\d.]+\))?)/.exec(expr)?.[1] ?? '';

/** A threshold as run, read in production time: `p(95)<7200` at scale 0.02 reads `p(95)<6m`. */
export function thresholdInProduction(metric: string, expr: string, timeScale: number): string {
  if (!isTimeMetric(metric)) return expr;
  const m = EXPR.exec(expr);
  return m ? `${m[1]}${readable(Number(m[2]) / timeScale)}${m[3]}` : expr;
}

/** A duration as run, in production time, with the scaled time beside it when scaled: "5m12.5s (6.25s at scale 0.02)". */
export function productionTime(msAsRun: number, timeScale: number): string {
  const production = readable(msAsRun / timeScale);
  return timeScale === 1 ? production : `${production} (${readable(msAsRun)} at scale ${timeScale})`;
}

/** The value a threshold tested, as a person reads it: a rate as a percentage, a duration in production time (scaled beside). */
export function thresholdValue(m: { type: string; contains: string; values: Record<string, number> }, expr: string, timeScale: number): string {
  const value = m.values[thresholdStat(expr)];
  if (value === undefined) return '';
  if (m.type === 'rate') return `${(100 * value).toFixed(2)}%`;
  return m.contains === 'time' ? productionTime(value, timeScale) : String(Number(value.toPrecision(6)));
}
