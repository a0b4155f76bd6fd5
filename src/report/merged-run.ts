import type { RequestMix } from '../../loadtests/mixes.ts';
import type { ScenarioPlan } from '../../loadtests/scenarios.ts';
import { defineMetrics, type RunResult } from '../loadgen/engine.ts';
import { VuCounter } from '../loadgen/iteration.ts';
import { readSamples, type Sample } from '../loadgen/sample-log.ts';
import { aggregate, parseThreshold, passes, type Threshold } from '../loadgen/thresholds.ts';
import { RunRecorder } from './run-recorder.ts';
import type { GatewayGauges } from './scrape.ts';

export interface MergeOptions {
  /** Each engine's samples in k6's JSON output format (ours or k6's `--out json=`). */
  files: string[];
  plan: ScenarioPlan;
  mix: RequestMix;
  /** Time-series interval, clock ms. */
  tickMs: number;
  /** The gateway's gauges as scraped during the run (epoch ms), for the series' queue and concurrency. */
  gateway?: { at: number; gauges: GatewayGauges | undefined }[];
}

/**
 * One run out of the samples of several engines that each ran a segment of it: every
 * sample replayed in time order into one recorder, so counts are sums, percentiles come
 * from one histogram of every sample (exact to the trend's 0.1 %, as for one engine), the
 * time series is the engines' together, and thresholds are judged on the whole test, not
 * per engine. Gauges (busy VUs) are summed across engines. The engines' clocks are taken
 * as one (one machine, or k6-operator pods started together): the run starts at the
 * earliest sample.
 */
export async function mergedRun(o: MergeOptions): Promise<{ run: RunResult; recorder: RunRecorder }> {
  const files = await Promise.all(o.files.map((f) => readSamples(f)));
  const tagged: { s: Sample; file: number }[] = [];
  files.forEach((f, file) => f.samples.forEach((s) => tagged.push({ s, file })));
  if (tagged.length === 0) throw new RangeError(`Expected samples in ${o.files.join(', ')}, got none: did the engines run?`);
  tagged.sort((a, b) => a.s.time - b.s.time);
  const startedAt = tagged[0]!.s.time;
  const recorder = new RunRecorder({ plan: o.plan, tickMs: o.tickMs, startedAt, mix: o.mix });
  const metrics = recorder.metrics;
  defineMetrics(metrics);
  for (const f of files) for (const [name, m] of f.metrics) if (!metrics.get(name)) metrics.define(name, m.type, m.contains);
  const thresholds: Threshold[] = [];
  for (const [name, specs] of Object.entries(o.plan.options.thresholds ?? {})) {
    const metric = metrics.get(name) ?? metrics.subMetric(name);
    for (const spec of specs) thresholds.push(parseThreshold(name, spec, metric.type));
  }
  for (const name of recorder.engineOptions().subMetrics ?? []) metrics.subMetric(name);

  // A gauge is each engine's last value, summed: 3 busy VUs here and 2 there are 5. Until every
  // engine that reports it has said its first value, the sum would be part of the whole: not added.
  const reporters = new Map<string, Set<number>>();
  for (const { s, file } of tagged) {
    if (metrics.get(s.metric)?.type !== 'gauge') continue;
    let set = reporters.get(s.metric);
    if (!set) reporters.set(s.metric, (set = new Set()));
    set.add(file);
  }
  const gauges = new Map<string, { per: number[]; reported: Set<number> }>();
  const gaugeTotal = (name: string, file: number, value: number): number | undefined => {
    let g = gauges.get(name);
    if (!g) gauges.set(name, (g = { per: new Array<number>(files.length).fill(0), reported: new Set() }));
    g.per[file] = value;
    g.reported.add(file);
    return g.reported.size === reporters.get(name)!.size ? g.per.reduce((a, b) => a + b, 0) : undefined;
  };
  const scraped = o.gateway ?? [];
  let scrape = -1;
  /** The last scrape before `t`. */
  const gatewayAt = (t: number): GatewayGauges | undefined => {
    while (scrape + 1 < scraped.length && scraped[scrape + 1]!.at <= t) scrape++;
    return scrape >= 0 ? scraped[scrape]!.gauges : undefined;
  };
  let nextTick = startedAt + o.tickMs;
  for (const { s, file } of tagged) {
    while (s.time > nextTick) {
      recorder.sample(nextTick, gauges.get('vus')?.per.reduce((a, b) => a + b, 0) ?? 0, gatewayAt(nextTick));
      nextTick += o.tickMs;
    }
    if (!metrics.get(s.metric)) metrics.define(s.metric, 'counter');
    const value = metrics.get(s.metric)!.type === 'gauge' ? gaugeTotal(s.metric, file, s.value) : s.value;
    if (value !== undefined) metrics.add(s.metric, value, s.tags);
    // Offered load, as the engine tells the series: each iteration that ran, each that was dropped.
    if (s.metric === 'iterations') recorder.series.offered(true);
    else if (s.metric === 'dropped_iterations') for (let i = 0; i < s.value; i++) recorder.series.offered(false);
  }
  const endedAt = tagged.at(-1)!.s.time;
  recorder.sample(endedAt, 0, gatewayAt(endedAt));
  const durationMs = endedAt - startedAt;
  for (const t of thresholds) t.failed = !passes(t, aggregate(metrics.get(t.metric)!, t.aggregation, durationMs));
  const vus = new VuCounter();
  vus.initialized = metrics.get('vus_max')?.value ?? 0;
  return { run: { metrics, thresholds, aborted: false, startedAt, durationMs, vus }, recorder };
}
