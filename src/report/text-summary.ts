import type { SummaryData, SummaryMetric } from './k6-summary.ts';
import { productionTime, readable, thresholdInProduction, thresholdStat, thresholdValue } from './production-time.ts';
const fmtData = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${Math.round(bytes)} B`);

/** One metric's values in production time: durations ÷ the scale, per-second rates × it. */
function describe(m: SummaryMetric, timeScale: number): string {
  const v = m.values;
  const fmtTime = (ms: number) => readable(ms / timeScale);
  switch (m.type) {
    case 'counter':
      return m.contains === 'data' ? `${fmtData(v.count!)} ${fmtData(v.rate! * timeScale)}/s` : `${v.count} ${(v.rate! * timeScale).toFixed(3)}/s`;
    case 'gauge':
      return `${v.value} min=${v.min} max=${v.max}`;
    case 'rate':
      return `${(100 * v.rate!).toFixed(2)}% ${v.passes} out of ${v.passes! + v.fails!}`;
    case 'trend':
      return Object.entries(v)
        .map(([stat, x]) => `${stat}=${m.contains === 'time' ? fmtTime(x) : x.toFixed(2)}`)
        .join(' ');
  }
}

/**
 * k6's end-of-test text: thresholds first (✓/✗), then every metric, dotted to a column; in
 * production time (scale 1) whatever the run's scale, which the header says once.
 * summary.json keeps k6's figures as run.
 */
export function textSummary(data: SummaryData, title: string, timeScale = 1): string {
  const lines = [`\n  ${title}\n`];
  if (timeScale !== 1) lines.push(`  Times and rates below are production time (scale 1): the run took ${productionTime(data.state.testRunDurationMs, timeScale)}; summary.json keeps them as run.\n`);
  const withThresholds = Object.entries(data.metrics).filter(([, m]) => m.thresholds);
  if (withThresholds.length > 0) {
    lines.push('  THRESHOLDS\n');
    for (const [name, m] of withThresholds) {
      lines.push(`    ${name}`);
      for (const [expr, { ok }] of Object.entries(m.thresholds!)) {
        lines.push(`    ${ok ? '✓' : '✗'} '${m.contains === 'time' ? thresholdInProduction(name, expr, timeScale) : expr}' ${thresholdStat(expr)}=${thresholdValue(m, expr, timeScale)}`);
      }
    }
    lines.push('');
  }
  lines.push('  METRICS\n');
  const names = Object.keys(data.metrics).sort();
  const width = Math.max(...names.map((n) => n.length)) + 3;
  for (const name of names) lines.push(`    ${(name + ' ').padEnd(width, '.')}: ${describe(data.metrics[name]!, timeScale)}`);
  lines.push('', `  run ${productionTime(data.state.testRunDurationMs, timeScale)}`, '');
  return lines.join('\n');
}
