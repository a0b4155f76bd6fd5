import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SummaryData } from './k6-summary.ts';
import { productionTime, thresholdInProduction, thresholdStat } from './production-time.ts';
import type { SeriesPoint } from './timeseries.ts';

const require = createRequire(import.meta.url);
/** uPlot (~50 kB) is inlined: the report must open with no network. */
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const UPLOT_CSS = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');

export interface ReportInput {
  title: string;
  subtitle: string;
  /** The run in one paragraph, first thing on the page. */
  verdict?: string;
  summary: SummaryData;
  /** One series per run (a single run, or one per strategy in `ratelab compare`). */
  runs: { name: string; points: SeriesPoint[] }[];
  /** Lines drawn on the 429 chart: the alert thresholds (10 % warning, 30 % critical). */
  alertLines?: number[];
  /** Extra rows for the headline table. */
  facts?: [string, string][];
  /** An outage window to shade, in seconds since start. */
  outage?: { from: number; to: number };
  /** Seconds of the trailing window the points carry (`SeriesPoint.trailing`), which the charts plot. */
  windowS?: number;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The thresholds as the console shows them: durations in production time, the scaled value beside. */
function thresholdRows(summary: SummaryData): string {
  const timeScale = Number((summary.ratelab as { timeScale?: number } | undefined)?.timeScale ?? 1);
  const rows: string[] = [];
  for (const [name, m] of Object.entries(summary.metrics)) {
    for (const [expr, { ok }] of Object.entries(m.thresholds ?? {})) {
      const actual = m.values[thresholdStat(expr)] ?? m.values.rate ?? m.values.count;
      const time = m.contains === 'time';
      const shown = actual === undefined ? '' : time ? productionTime(actual, timeScale) : m.type === 'rate' ? `${(100 * actual).toFixed(2)} %` : String(Number(actual.toPrecision(4)));
      rows.push(`<tr class="${ok ? 'ok' : 'fail'}"><td>${ok ? '✓' : '✗'}</td><td>${escape(name)}</td><td><code>${escape(time ? thresholdInProduction(name, expr, timeScale) : expr)}</code></td><td>${escape(shown)}</td></tr>`);
    }
  }
  return rows.join('\n');
}

/**
 * A self-contained HTML report: headline facts, thresholds passed/failed, and plots over
 * time — offered vs completed, P50/P95/P99, provider 429s vs gateway refusals against the
 * alert lines, queue depth, concurrency limit vs in-flight. Every chart registers itself in
 * `window.ratelabCharts` so a headless browser can check what was drawn.
 */
export function htmlReport(input: ReportInput): string {
  const data = JSON.stringify({ runs: input.runs, alertLines: input.alertLines ?? [0.1, 0.3], outage: input.outage ?? null }).replace(/</g, '\\u003c');
  const facts = (input.facts ?? []).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>${UPLOT_CSS}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:22px;margin:0}.sub{color:#5b6475;margin:4px 0 16px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ec;text-align:left}
tr.fail td{color:#b3261e;font-weight:600}tr.ok td:first-child{color:#1e7b34}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
.chart h2{font-size:15px;margin:8px 0}
.verdict{font-size:16px;background:#f4f6fa;border-left:4px solid #3366cc;padding:10px 14px;margin:12px 0 16px}
</style></head><body>
<h1>${escape(input.title)}</h1><p class="sub">${escape(input.subtitle)}</p>
${input.verdict ? `<p class="verdict" id="verdict"><strong>Verdict.</strong> ${escape(input.verdict)}</p>` : ''}
${input.windowS ? `<p class="sub">Charts: rates and percentiles over the trailing ${Number(input.windowS.toPrecision(3))} s at each point (timeseries.json also keeps each interval's own).</p>` : ''}
<table>${facts}</table>
<h2>Thresholds</h2>
<table><tr><th></th><th>metric</th><th>threshold</th><th>value</th></tr>
${thresholdRows(input.summary) || '<tr><td colspan="4">none</td></tr>'}
</table>
<div class="charts" id="charts"></div>
<script>${UPLOT_JS}</script>
<script>
const DATA = ${data};
window.ratelabCharts = [];
const palette = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6'];
function chart(id, title, unit, series, extraLines) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.id = id;
  box.innerHTML = '<h2>' + title + '</h2>';
  document.getElementById('charts').appendChild(box);
  // Runs share the tick, so their i-th points line up; the longest run gives the x axis.
  const longest = DATA.runs.reduce((a, r) => (r.points.length > a.points.length ? r : a), DATA.runs[0]);
  const times = longest.points.map((p) => p.t);
  const cols = [times];
  const defs = [{}];
  series.forEach((s, i) => {
    for (const run of DATA.runs) {
      cols.push(times.map((_, j) => (run.points[j] ? s.value(run.points[j]) ?? null : null)));
      defs.push({ label: (DATA.runs.length > 1 ? run.name + ' ' : '') + s.label, stroke: palette[(i + DATA.runs.indexOf(run) * series.length) % palette.length], width: 2, dash: DATA.runs.indexOf(run) ? [6, 4] : undefined });
    }
  });
  for (const line of extraLines || []) {
    cols.push(times.map(() => line.value));
    defs.push({ label: line.label, stroke: line.color, width: 1, dash: [4, 4] });
  }
  const plot = new uPlot({ width: 540, height: 260, series: defs, axes: [{ label: 's' }, { label: unit }], scales: { x: { time: false } } }, cols, box);
  window.ratelabCharts.push({ id, plot, points: times.length, series: cols.length - 1 });
}
// The trailing window's figures when the run has them; else the interval's own.
const w = (p) => p.trailing || p;
// No answers in the window: no share to show (a gap, not 0 %).
const pct = (x, p) => (w(p).completed > 0 ? (100 * x) / w(p).completed : null);
chart('throughput', 'Offered vs completed', 'req/s', [
  { label: 'offered', value: (p) => w(p).offered },
  { label: 'completed', value: (p) => w(p).completed },
  { label: 'images (200)', value: (p) => w(p).ok },
]);
chart('latency', 'Latency (end to end)', 'ms', [
  { label: 'P50', value: (p) => w(p).p50 },
  { label: 'P95', value: (p) => w(p).p95 },
  { label: 'P99', value: (p) => w(p).p99 },
]);
chart('rejections', 'Provider 429s vs gateway refusals', '% of answers', [
  { label: 'provider 429', value: (p) => pct(w(p).provider429, p) },
  { label: 'gateway refusals', value: (p) => pct(w(p).refusals, p) },
  { label: 'other errors', value: (p) => pct(w(p).errors, p) },
], DATA.alertLines.map((a, i) => ({ label: (i ? 'critical ' : 'warning ') + a * 100 + ' %', value: a * 100, color: i ? '#b3261e' : '#e6a700' })));
chart('queue', 'Gateway queue depth', 'requests', [{ label: 'queued', value: (p) => p.queueDepth }]);
chart('concurrency', 'Concurrency limit vs in-flight', 'requests', [
  { label: 'limit', value: (p) => p.concurrencyLimit },
  { label: 'in flight', value: (p) => p.inFlight },
]);
</script></body></html>
`;
}
