import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SummaryData } from './k6-summary.ts';
import { readable, thresholdInProduction, thresholdValue } from './production-time.ts';
import type { ClassFigures } from './run-facts.ts';
import type { SeriesPoint } from './timeseries.ts';

const require = createRequire(import.meta.url);
/** uPlot (~50 kB) is inlined: the report must open with no network. */
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const UPLOT_CSS = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');

/** One run on the report: a single load test, or one strategy of `ratelab compare`. */
export interface ReportRun {
  name: string;
  points: SeriesPoint[];
  summary: SummaryData;
}

export interface ReportInput {
  title: string;
  subtitle: string;
  /** The run in one paragraph, first thing on the page. */
  verdict?: string;
  /** The time scale the runs ran at: every figure and axis is drawn in production time (scale 1). */
  timeScale: number;
  /** The account's capacity (images/min, production time): a line on the throughput chart. */
  capacity?: number;
  /** A table before everything else (`compare`'s side by side): cells are text. */
  table?: { head: string[]; rows: string[][]; note?: string };
  runs: ReportRun[];
  /** Lines drawn on the 429 chart: the alert thresholds (10 % warning, 30 % critical). */
  alertLines?: number[];
  /** Extra rows for the headline table. */
  facts?: [string, string][];
  /** The gateway's refusals by reason (their `error.code`) and the requests they were among. */
  refusals?: { requests: number; byReason: Record<string, number> };
  /** A mix's figures per request class (production time). */
  classes?: ClassFigures[];
  /** An outage window to shade, in seconds since start as run. */
  outage?: { from: number; to: number };
  /** Seconds (as run) of the trailing window the points carry (`SeriesPoint.trailing`), which the charts plot. */
  windowS?: number;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const cell = (tag: 'td' | 'th', s: string): string => `<${tag}>${escape(s)}</${tag}>`;

/** The thresholds of every run: a row per threshold, a column per run (named when there are several). */
function thresholdTable(runs: ReportRun[], timeScale: number): string {
  const keys = new Map<string, [string, string]>();
  for (const { summary } of runs) {
    for (const [metric, m] of Object.entries(summary.metrics)) for (const expr of Object.keys(m.thresholds ?? {})) keys.set(`${metric} ${expr}`, [metric, expr]);
  }
  if (keys.size === 0) return '<p>No thresholds.</p>';
  const head = `<tr><th>metric</th><th>threshold (production time)</th>${runs.map((r) => `<th>${runs.length > 1 ? escape(r.name) : 'value'}</th>`).join('')}</tr>`;
  const rows = [...keys.values()].map(([metric, expr]) => {
    const time = runs[0]!.summary.metrics[metric]?.contains === 'time';
    const cells = runs.map(({ summary }) => {
      const m = summary.metrics[metric];
      const t = m?.thresholds?.[expr];
      // Thresholds are shown as the console shows them: durations in production time, the scaled value beside.
      return m && t ? `<td class="${t.ok ? 'ok' : 'fail'}">${t.ok ? '✓' : '✗'} ${escape(thresholdValue(m, expr, timeScale))}</td>` : '<td>—</td>';
    });
    return `<tr><td>${escape(metric)}</td><td><code>${escape(time ? thresholdInProduction(metric, expr, timeScale) : expr)}</code></td>${cells.join('')}</tr>`;
  });
  return `<table id="thresholds">${head}\n${rows.join('\n')}</table>`;
}

function refusalTable(refusals: NonNullable<ReportInput['refusals']>): string {
  const entries = Object.entries(refusals.byReason);
  if (entries.length === 0) return '<p id="refusals">The gateway refused nothing.</p>';
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const pct = (n: number) => `${((100 * n) / Math.max(refusals.requests, 1)).toFixed(2)} % of requests`;
  const rows = entries.map(([reason, n]) => `<tr><td><code>${escape(reason)}</code></td><td>${n}</td><td>${pct(n)}</td></tr>`);
  return `<table id="refusals"><tr><th>reason (error.code)</th><th>refusals</th><th>share</th></tr>\n${rows.join('\n')}\n<tr><th>all</th><th>${total}</th><th>${pct(total)}</th></tr></table>
<p class="sub">Each refusal's message says why and which setting or capacity would change it; <code>error.type</code> is <code>ratelab_gateway_error</code>, so a client tells it from a provider 429.</p>`;
}

/** Per request class of the mix: its share, what it sent and got, and its latencies (production time). */
function classTable(classes: ClassFigures[]): string {
  const time = (ms: number | null): string => (ms === null ? '—' : readable(ms));
  const rows = classes.map(
    (c) =>
      `<tr><td><code>${escape(c.class)}</code></td><td>${(100 * c.share).toFixed(0)} %</td><td>${c.priority}</td><td>${c.requests}</td><td>${c.images}</td><td>${time(c.p50Ms)}</td><td>${time(c.p95Ms)}</td><td>${time(c.firstImageP95Ms)}</td></tr>`,
  );
  return `<table id="classes"><tr><th>class</th><th>share of the mix</th><th>priority</th><th>requests</th><th>images</th><th>P50 (images)</th><th>P95 (images)</th><th>P95 to first image</th></tr>\n${rows.join('\n')}</table>
<p class="sub">Each class's requests carry a <code>class</code> tag: thresholds like <code>http_req_duration{class:${escape(classes[0]?.class ?? 'name')}}</code> apply to one class. A streamed class's first image is its first partial image.</p>`;
}

/**
 * A self-contained HTML report in production time: the verdict, headline facts, thresholds,
 * refusals by reason, request classes, and plots over scenario time — offered vs completed against the
 * account's capacity, P50/P95/P99, time to first image, provider 429s vs gateway refusals against the alert
 * lines, queue depth, concurrency limit vs in-flight. With several runs (`compare`), each
 * run has one colour on every chart and a chart draws only what a run has. Every chart
 * registers itself in `window.ratelabCharts` so a headless browser can check what was drawn.
 */
export function htmlReport(input: ReportInput): string {
  const scale = input.timeScale;
  const data = JSON.stringify({
    runs: input.runs.map(({ name, points }) => ({ name, points })),
    timeScale: scale,
    capacity: input.capacity ?? null,
    alertLines: input.alertLines ?? [0.1, 0.3],
    outage: input.outage ?? null,
  }).replace(/</g, '\\u003c');
  const facts = (input.facts ?? []).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('\n');
  const wallS = Math.max(0, ...input.runs.map((r) => r.points.at(-1)?.t ?? 0));
  const timeNote =
    scale === 1
      ? 'Every time and rate is production time.'
      : `Every time and rate is production time (scale 1): the run was time-scaled by ${scale}, so its ${(wallS / scale / 60).toFixed(1)} scenario minutes took ${wallS.toFixed(1)} s; scaled values are shown beside where they differ.`;
  const table = input.table
    ? `<table id="side-by-side"><tr>${input.table.head.map((h) => cell('th', h)).join('')}</tr>\n${input.table.rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('\n')}</table>${input.table.note ? `<p class="sub">${escape(input.table.note)}</p>` : ''}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>${UPLOT_CSS}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:22px;margin:0}.sub{color:#5b6475;margin:4px 0 16px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ec;text-align:left}
td.fail{color:#b3261e;font-weight:600}td.ok{color:#1e7b34}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
.chart h3{font-size:15px;margin:8px 0 2px}.chart .axes{color:#5b6475;font-size:12px;margin:0 0 4px}
.verdict{font-size:16px;background:#f4f6fa;border-left:4px solid #3366cc;padding:10px 14px;margin:12px 0 16px}
</style></head><body>
<h1>${escape(input.title)}</h1><p class="sub">${escape(input.subtitle)}</p>
${input.verdict ? `<p class="verdict" id="verdict"><strong>Verdict.</strong> ${escape(input.verdict)}</p>` : ''}
<p class="sub" id="time-note">${escape(timeNote)}</p>
${table}
${facts ? `<table id="facts">${facts}</table>` : ''}
<h2>Thresholds</h2>
${thresholdTable(input.runs, scale)}
${input.classes?.length ? `<h2>Request classes</h2>\n${classTable(input.classes)}` : ''}
${input.refusals ? `<h2>Gateway refusals by reason</h2>\n${refusalTable(input.refusals)}` : ''}
<h2>Over the run</h2>
${input.windowS ? `<p class="sub">Rates and percentiles over the trailing ${Number((input.windowS / scale / 60).toPrecision(3))} min of scenario time at each point (timeseries.json also keeps each interval's own, as run).</p>` : ''}
<div class="charts" id="charts"></div>
<script>${UPLOT_JS}</script>
<script>
const DATA = ${data};
window.ratelabCharts = [];
// One colour per run when there are several (a strategy looks the same on every chart), else one per series.
const palette = ['#3366cc', '#dc3912', '#109618', '#ff9900', '#990099', '#0099c6'];
const dashes = [undefined, [8, 4], [2, 3], [12, 3, 2, 3]];
const S = DATA.timeScale;
// Scenario minutes; per production minute; production seconds.
const minutes = (t) => t / S / 60;
const perMinute = (x) => (x == null ? null : x * 60 * S);
const seconds = (ms) => (ms == null ? null : ms / S / 1000);
const num = (v) => String(Number(v.toPrecision(3)));
const shade = (u) => {
  if (!DATA.outage) return;
  const x0 = u.valToPos(minutes(DATA.outage.from), 'x', true);
  const x1 = u.valToPos(minutes(DATA.outage.to), 'x', true);
  u.ctx.save();
  u.ctx.fillStyle = 'rgba(179, 38, 30, 0.08)';
  u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
  u.ctx.restore();
};
function chart(id, title, yAxis, format, series, extraLines) {
  // Runs share the tick, so their i-th points line up; the longest run gives the x axis.
  const longest = DATA.runs.reduce((a, r) => (r.points.length > a.points.length ? r : a), DATA.runs[0]);
  const xs = longest.points.map((p) => minutes(p.t));
  const cols = [xs];
  const defs = [{ label: 'scenario time', value: (u, v) => (v == null ? '' : num(v) + ' min') }];
  const several = DATA.runs.length > 1;
  series.forEach((s, i) => {
    DATA.runs.forEach((run, r) => {
      const values = xs.map((_, j) => (run.points[j] ? s.value(run.points[j]) ?? null : null));
      // What a run does not have (no gateway: no queue, no concurrency limit) is not drawn as an empty line.
      if (values.every((v) => v == null)) return;
      cols.push(values);
      defs.push({ label: (several ? run.name + ' · ' : '') + s.label, stroke: palette[(several ? r : i) % palette.length], width: 2, dash: several ? dashes[i % dashes.length] : undefined });
    });
  });
  if (cols.length === 1) return;
  for (const line of extraLines || []) {
    cols.push(xs.map(() => line.value));
    defs.push({ label: line.label, stroke: line.color, width: 1, dash: [4, 4] });
  }
  const box = document.createElement('div');
  box.className = 'chart';
  box.id = id;
  box.innerHTML = '<h3>' + title + '</h3><p class="axes">x: scenario time (min, production) · y: ' + yAxis + (DATA.outage ? ' · shaded: the outage' : '') + '</p>';
  document.getElementById('charts').appendChild(box);
  const plot = new uPlot(
    {
      width: 560,
      height: 260,
      series: defs,
      legend: { live: false },
      axes: [
        { values: (u, v) => v.map((x) => num(x)), label: 'min' },
        { values: (u, v) => v.map((x) => format(x)), size: 72, label: yAxis, labelGap: 8 },
      ],
      scales: { x: { time: false } },
      hooks: { drawClear: [shade] },
    },
    cols,
    box,
  );
  window.ratelabCharts.push({ id, plot, points: xs.length, series: cols.length - 1 });
}
// The trailing window's figures when the run has them; else the interval's own.
const w = (p) => p.trailing || p;
// No answers in the window: no share to show (a gap, not 0 %).
const pct = (x, p) => (w(p).completed > 0 ? (100 * x) / w(p).completed : null);
chart('throughput', 'Offered vs completed', 'per minute', num, [
  { label: 'offered requests', value: (p) => perMinute(w(p).offered) },
  { label: 'answers', value: (p) => perMinute(w(p).completed) },
  { label: 'images', value: (p) => perMinute(w(p).ok) },
], DATA.capacity == null ? [] : [{ label: 'account capacity ' + DATA.capacity + ' images/min', value: DATA.capacity, color: '#1d2330' }]);
// Latency in the unit its largest value reads best in, so the ticks fall on round numbers of it.
const slowest = Math.max(0, ...DATA.runs.flatMap((r) => r.points.map((p) => seconds(w(p).p99) ?? 0)));
const [unit, unitName] = slowest >= 120 ? [60, 'min'] : slowest >= 1 ? [1, 's'] : [0.001, 'ms'];
const inUnit = (ms) => (ms == null ? null : seconds(ms) / unit);
chart('latency', 'Latency of answers (end to end)', 'production time', (v) => num(v) + ' ' + unitName, [
  { label: 'P50', value: (p) => inUnit(w(p).p50) },
  { label: 'P95', value: (p) => inUnit(w(p).p95) },
  { label: 'P99', value: (p) => inUnit(w(p).p99) },
]);
chart('first-image', 'Time to first image vs the whole answer (P95)', 'production time', (v) => num(v) + ' ' + unitName, [
  { label: 'first image P95', value: (p) => (p.firstImage ? inUnit(p.firstImage.p95) : null) },
  { label: 'first image P50', value: (p) => (p.firstImage ? inUnit(p.firstImage.p50) : null) },
  { label: 'whole answer P95', value: (p) => inUnit(w(p).p95) },
]);
chart('rejections', 'Provider 429s vs gateway refusals', '% of answers', (v) => num(v) + ' %', [
  { label: 'provider 429', value: (p) => pct(w(p).provider429, p) },
  { label: 'gateway refusals', value: (p) => pct(w(p).refusals, p) },
  { label: 'other errors', value: (p) => pct(w(p).errors, p) },
], DATA.alertLines.map((a, i) => ({ label: (i ? 'critical ' : 'warning ') + a * 100 + ' %', value: a * 100, color: i ? '#b3261e' : '#e6a700' })));
chart('queue', 'Gateway queue depth', 'requests waiting', num, [{ label: 'queued', value: (p) => p.queueDepth }]);
chart('concurrency', 'Concurrency limit vs in flight', 'requests', num, [
  { label: 'limit', value: (p) => p.concurrencyLimit },
  { label: 'in flight', value: (p) => p.inFlight },
]);
</script></body></html>
`;
}
