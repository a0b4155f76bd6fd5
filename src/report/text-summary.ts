import type { SummaryData, SummaryMetric } from './k6-summary.ts';

const fmtTime = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : ms >= 1 ? `${ms.toFixed(2)}ms` : `${(ms * 1000).toFixed(2)}µs`);
const fmtData = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`);

function describe(m: SummaryMetric): string {
  const v = m.values;
  switch (m.type) {
    case 'counter':
      return m.contains === 'data' ? `${fmtData(v.count!)} ${fmtData(v.rate!)}/s` : `${v.count} ${v.rate!.toFixed(2)}/s`;
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

/** k6's end-of-test text: thresholds first (✓/✗), then every metric, dotted to a column. */
export function textSummary(data: SummaryData, title: string): string {
  const lines = [`\n  ${title}\n`];
  const withThresholds = Object.entries(data.metrics).filter(([, m]) => m.thresholds);
  if (withThresholds.length > 0) {
    lines.push('  THRESHOLDS\n');
    for (const [name, m] of withThresholds) {
      lines.push(`    ${name}`);
      for (const [expr, { ok }] of Object.entries(m.thresholds!)) {
        const stat = /^\s*([a-z]+(?:\([\d.]+\))?)/.exec(expr)?.[1] ?? '';
        const value = m.values[stat];
        const shown = value === undefined ? '' : m.type === 'rate' ? `${(100 * value).toFixed(2)}%` : m.contains === 'time' ? fmtTime(value) : String(Number(value.toPrecision(6)));
        lines.push(`    ${ok ? '✓' : '✗'} '${expr}' ${stat}=${shown}`);
      }
    }
    lines.push('');
  }
  lines.push('  METRICS\n');
  const names = Object.keys(data.metrics).sort();
  const width = Math.max(...names.map((n) => n.length)) + 3;
  for (const name of names) lines.push(`    ${(name + ' ').padEnd(width, '.')}: ${describe(data.metrics[name]!)}`);
  lines.push('', `  run ${fmtTime(data.state.testRunDurationMs)}`, '');
  return lines.join('\n');
}
