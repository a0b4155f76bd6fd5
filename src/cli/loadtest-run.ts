import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Agent } from 'undici';
import { DEFAULT_LOADTEST_MODEL } from '../../loadtests/lib/answers.ts';
import { DEFAULT_MIX, DEV_KEY, MIXES, type RequestMix, type RunKeys } from '../../loadtests/mixes.ts';
import { customScenario, scenario, type CustomLoad, type RunnableScenario, type ScenarioPlan } from '../../loadtests/scenarios.ts';
import { realClock } from '../core/clock.ts';
import { toMs } from '../core/duration.ts';
import type { GatewayConfig } from '../gateway/config.ts';
import { INTENDED_METRIC, runLoad, type RunResult } from '../loadgen/engine.ts';
import { connectionPool } from '../loadgen/connection-pool.ts';
import { imageIteration } from '../loadgen/image-iteration.ts';
import { IterationTraces, type SlowRequest } from '../loadgen/iteration-traces.ts';
import type { ExecutionTuple } from '../loadgen/execution-segment.ts';
import { SampleWriter } from '../loadgen/sample-log.ts';
import { warmUp, type WarmUpResult } from '../loadgen/warm-up.ts';
import type { IterationFn } from '../loadgen/iteration.ts';
import { exposeK6Metrics } from '../loadgen/k6-prometheus.ts';
import { startStack, type RunningStack } from './start-stack.ts';
import type { Metrics } from '../loadgen/metrics.ts';
import { htmlReport } from '../report/html-report.ts';
import type { SummaryData } from '../report/k6-summary.ts';
import { scrapeGateway, type GatewayGauges } from '../report/scrape.ts';
import type { ProviderCounts, RunFigures, RunSummary } from '../report/run-facts.ts';
import { RunRecorder } from '../report/run-recorder.ts';
import { arrivalsPerMinute, capacityNeeded, queueFacts, verdict } from '../report/verdict.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import { productionTime } from '../report/production-time.ts';
import { loadProfile } from '../../mock-server/profiles/index.ts';
import { loadTestCapacity, profileTiers } from '../sim/capacity.ts';
import { timeToRecover, type SeriesPoint } from '../report/timeseries.ts';
import { runLengthMs } from '../loadgen/plan-length.ts';

export interface LoadtestSettings {
  scenario: RunnableScenario;
  /** What the iterations send; default the `single` mix (loadtests/mixes.ts). */
  mix?: RequestMix;
  /** `custom`'s load (required for it). */
  custom?: CustomLoad;
  timeScale: number;
  /** Images/min the target sustains at scale 1; default: the stack's tier IPM. */
  capacity?: number;
  /** A running gateway (base URL without /v1); absent: start the mock and the gateway here. */
  target?: string;
  /** The mock's base URL (for the recovery scenario's outage) when `target` is given. */
  mockUrl?: string;
  apiKey?: string;
  /** Keys of the gateway clients of other priorities, for a mix's classes that name one (`API_KEY_HIGH`, ...). */
  priorityKeys?: RunKeys['byPriority'];
  /** The model each request asks for; default the stack's profile's default model (or DEFAULT_LOADTEST_MODEL with a target). */
  model?: string;
  tier: number;
  profile: string;
  seed: number;
  gatewayConfig?: GatewayConfig;
  /** Extra thresholds, `metric` → expressions (added to the scenario's). */
  thresholds?: Record<string, string[]>;
  outDir: string;
  /** Live k6-named metrics for Prometheus on this registry (the CLI serves it). */
  registry?: Registry;
  /** Told what the engine's warm-up did, before the run's clock starts (not with a custom `iteration`). */
  onWarmedUp?: (w: WarmUpResult) => void;
  /** Share of requests whose `traceparent` is flagged sampled (each request starts a trace). Default 1: every trace may be kept downstream. */
  traceRatio?: number;
  /** Called each tick with progress, for the progress bar. */
  onTick?: (p: Progress) => void;
  signal?: AbortSignal;
  /**
   * Runs after the load, before the outputs are written: what it returns joins the summary
   * (`ratelab.<key>`) and the report's facts (e.g. the live check's alert timings).
   */
  afterRun?: (r: { run: RunResult; points: SeriesPoint[]; startedAt: number }) => Promise<{ key: string; data: unknown; facts: [string, string][] } | undefined>;
  /** This engine's share of a test split across several (k6's --execution-segment); default all of it. */
  segment?: ExecutionTuple;
  /** Write every metric sample here in k6's JSON output format (gzipped for .gz), so split runs merge exactly. */
  samples?: string;
  /** Builds a different iteration (ratelab compare's no-limiter strategy); default: through the target's gateway. */
  iteration?: (metrics: Metrics, stack: { gatewayUrl: string; mockUrl: string | undefined }) => { fn: IterationFn; close: () => Promise<void> };
  /** Whether `iteration` goes through the gateway (default true): if not, the run has no gateway figures (queue, concurrency, circuit). */
  viaGateway?: boolean;
}

export interface Progress {
  elapsedMs: number;
  totalMs: number;
  stage: string;
  /** Answers so far (http_reqs). */
  requests: number;
  /** Answers that failed (http_req_failed). */
  errors: number;
  /** The gateway's refusals and the provider's 429s among them. */
  refusals: number;
  provider429: number;
  /** Requests sent and not yet answered (busy VUs). */
  inFlight: number;
}

export interface LoadtestOutcome {
  plan: ScenarioPlan;
  run: RunResult;
  summary: RunSummary;
  points: SeriesPoint[];
  thresholdsFailed: boolean;
  files: { summary: string; timeseries: string; report: string };
  capacity: number;
  /** Seconds of the trailing window in `points[].trailing`. */
  windowS: number;
}

/** Which stage of the plan `elapsed` clock ms fall in, for the progress line. */
export function stageAt(plan: ScenarioPlan, elapsed: number): string {
  for (const s of Object.values(plan.options.scenarios)) {
    if (!('stages' in s)) continue;
    let at = 0;
    for (const [i, st] of s.stages.entries()) {
      at += toMs(st.duration);
      if (elapsed < at) return `stage ${i + 1}/${s.stages.length}`;
    }
  }
  return elapsed < runLengthMs(plan.options) ? 'running' : 'finishing';
}

/** The scenario's plan (`custom`'s from its load) sized to the capacity, with extra thresholds added to its own. */
export function runPlan(name: RunnableScenario, custom: CustomLoad | undefined, params: { capacity: number; timeScale: number }, thresholds: Record<string, string[]> = {}): ScenarioPlan {
  const plan = name === 'custom' ? customScenario(custom ?? { durationMs: 0 }, params) : scenario(name, params);
  for (const [metric, exprs] of Object.entries(thresholds)) plan.options.thresholds[metric] = [...(plan.options.thresholds[metric] ?? []), ...exprs];
  return plan;
}

/** The time series' interval: about 300 points a run, between 0.1 and 1 s of clock time. */
export const seriesTickMs = (plan: ScenarioPlan): number => Math.min(1000, Math.max(100, runLengthMs(plan.options) / 300));

/**
 * One load test with the embedded engine: the mock and the gateway unless a target is
 * given, the scenario from loadtests/scenarios.ts, a time series sampled every tick, and
 * the three outputs (summary.json in k6's shape, timeseries.json, report.html).
 */
export async function runLoadtest(s: LoadtestSettings): Promise<LoadtestOutcome> {
  let stack: RunningStack | undefined;
  let pool: Agent | undefined;
  let samples: SampleWriter | undefined;
  try {
    let target = s.target;
    let mockUrl = s.mockUrl;
    let capacity = s.capacity;
    if (!target) {
      stack = await startStack({ requireAccess: s.capacity === undefined, profile: s.profile, tier: s.tier, timeScale: s.timeScale, seed: s.seed, logLevel: 'warn', ...(s.gatewayConfig ? { gatewayConfig: s.gatewayConfig } : {}) });
      target = stack.gateway.url;
      mockUrl = stack.mock.url;
      capacity ??= stack.capacity;
    }
    const model = s.model ?? stack?.model ?? DEFAULT_LOADTEST_MODEL;
    if (!capacity) throw new RangeError('Expected `--capacity` (images per minute the target sustains at time scale 1) for this target, got nothing');
    const plan = runPlan(s.scenario, s.custom, { capacity, timeScale: s.timeScale }, s.thresholds);

    const clock = realClock;
    let closeIteration: (() => Promise<void>) | undefined;
    const maxVUs = Math.max(...Object.values(plan.options.scenarios).map((c) => ('maxVUs' in c ? (c.maxVUs ?? c.preAllocatedVUs) : 'vus' in c ? (c.vus ?? 1) : 1)));
    const gatewayUrl = target.replace(/\/$/, '');
    const connections = maxVUs + 16;
    const timeoutMs = 6.5 * 60_000 * s.timeScale + 30_000;
    // The default iteration's pool is made here so the warm-up can open its connections before the clock starts.
    if (!s.iteration) {
      pool = connectionPool({ connections, timeoutMs });
      s.onWarmedUp?.(await warmUp({ options: plan.options, pool, target: gatewayUrl, connections, model }));
    }
    // Sample the time series (and the gateway's queue and concurrency) every tick.
    const totalMs = runLengthMs(plan.options);
    const tickMs = seriesTickMs(plan);
    const recorder = new RunRecorder({ plan, tickMs, startedAt: clock.now(), mix: s.mix ?? MIXES[DEFAULT_MIX]! });
    const { metrics } = recorder;
    const traces = new IterationTraces(s.traceRatio ?? 1, s.timeScale, clock.now());
    samples = s.samples ? new SampleWriter(s.samples, metrics, () => clock.now()) : undefined;
    // The run's start, as k6's first sample of busy VUs: a merge of split runs starts there.
    samples?.point('vus', 0);
    const runPromise = runLoad({
      options: plan.options,
      clock,
      signal: s.signal,
      ...(s.segment ? { segment: s.segment } : {}),
      ...recorder.engineOptions(),
      iterations: () => {
        if (s.registry) exposeK6Metrics(s.registry, metrics);
        const it = s.iteration
          ? s.iteration(metrics, { gatewayUrl, mockUrl })
          : imageIteration(metrics, { baseURL: gatewayUrl, apiKey: s.apiKey ?? DEV_KEY, ...(s.priorityKeys ? { priorityKeys: s.priorityKeys } : {}), model, clock, timeoutMs, connections, traces, ...(pool ? { dispatcher: pool } : {}), ...(s.mix ? { mix: s.mix } : {}) });
        closeIteration = it.close;
        return {
          default: it.fn,
          injectOutage: async () => {
            if (!plan.outage || !mockUrl) return;
            await fetch(`${mockUrl}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan.outage.fault) });
          },
        };
      },
    });

    const startedAt = clock.now();
    let gauges: GatewayGauges | undefined;
    let scraping = false;
    const tick = setInterval(() => {
      const now = clock.now();
      if (!scraping && gatewayUrl && s.viaGateway !== false) {
        scraping = true;
        void scrapeGateway(`${gatewayUrl}/metrics`).then((g) => {
          gauges = g;
          scraping = false;
        });
      }
      recorder.sample(now, metrics.get('vus')?.value ?? 0, gauges);
      progressAt(now);
    }, tickMs);
    const progressAt = (now: number): void => {
      const reqs = metrics.get('http_reqs')?.sum ?? 0;
      const failed = metrics.get('http_req_failed')?.passes ?? 0;
      const refusals = metrics.get('ratelab_gateway_refusals')?.passes ?? 0;
      const provider429 = metrics.get('ratelab_provider_429')?.passes ?? 0;
      const inFlight = metrics.get('vus')?.value ?? 0;
      s.onTick?.({ elapsedMs: now - startedAt, totalMs, stage: stageAt(plan, now - startedAt), requests: reqs, errors: failed, refusals, provider429, inFlight });
    };
    let run: RunResult;
    try {
      run = await runPromise;
    } finally {
      clearInterval(tick);
      await closeIteration?.();
    }
    recorder.sample(clock.now(), 0, gauges);
    // The last answers came after the last tick: progress ends on the run's own totals.
    progressAt(clock.now());
    await samples?.close();
    return await finishRun({ plan, run, recorder, s, capacity, engine: 'embedded', target: gatewayUrl, ...(stack ? { provider: stack.mock.model.stats } : {}), ...(s.iteration ? {} : { slowest: traces.slowest() }) });
  } finally {
    await samples?.close().catch(() => undefined);
    await pool?.close();
    await stack?.close();
  }
}

/** A finished run, however it was run: one engine here, or several engines' samples merged. */
export interface FinishedRun {
  plan: ScenarioPlan;
  run: RunResult;
  recorder: RunRecorder;
  s: LoadtestSettings;
  capacity: number;
  engine: string;
  target: string;
  provider?: ProviderCounts;
  slowest?: SlowRequest[];
  /** A test split across engines: each one's execution segment and where its own outputs are. */
  instances?: RunFigures['instances'];
}

/** The run's figures, verdict and the three outputs (summary.json, timeseries.json, report.html). */
export async function finishRun(r: FinishedRun): Promise<LoadtestOutcome> {
  const { plan, run, recorder, s, capacity } = r;
  const points = recorder.points;
  const { windowMs, tickMs } = recorder;

  const outageEnd = plan.outage ? (plan.outage.atMs + plan.outage.durationMs) / 1000 : undefined;
  const recoverS = outageEnd === undefined ? undefined : timeToRecover(points, outageEnd, 0.9, windowMs / 1000);
  const ratelab: RunFigures = {
    ...recorder.figures(run, { engine: r.engine, timeScale: s.timeScale, capacity, ...(r.provider ? { provider: r.provider } : {}) }),
    target: r.target,
    ...(r.slowest ? { slowest: r.slowest } : {}),
    ...(r.instances ? { instances: r.instances } : {}),
    ...(plan.outage
      ? {
          outage: { atS: plan.outage.atMs / 1000, durationS: plan.outage.durationMs / 1000, status: plan.outage.fault.status },
          /** Seconds from the outage's end until successes are back to 90 % of answers: as run, and at scale 1. */
          timeToRecoverS: recoverS ?? null,
          timeToRecoverAtScale1S: recoverS === undefined ? null : recoverS / s.timeScale,
        }
      : {}),
  };
  ratelab.verdict = runVerdict(plan, ratelab, run, s, capacity, points);
  const after = await s.afterRun?.({ run, points, startedAt: run.startedAt });
  if (after) ratelab[after.key] = after.data;
  const summary = recorder.summary(run, ratelab);
  mkdirSync(s.outDir, { recursive: true });
  const files = { summary: join(s.outDir, 'summary.json'), timeseries: join(s.outDir, 'timeseries.json'), report: join(s.outDir, 'report.html') };
  writeFileSync(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(files.timeseries, `${JSON.stringify({ scenario: plan.name, timeScale: s.timeScale, tickMs, windowMs, points }, null, 2)}\n`);
  writeFileSync(
    files.report,
    htmlReport({
      title: `ratelab ${plan.name}`,
      subtitle: `${plan.description} · capacity ${capacity} images/min · time scale ${s.timeScale}${r.instances ? ` · ${r.instances.length} engines (execution segments), merged` : ''} · ${new Date().toISOString()}`,
      verdict: ratelab.verdict,
      timeScale: s.timeScale,
      capacity,
      runs: [{ name: plan.name, points, summary }],
      windowS: windowMs / 1000,
      facts: [...headlineFacts(summary, ratelab), ...(after?.facts ?? [])],
      refusals: { requests: ratelab.requests, byReason: ratelab.refusalsByReason },
      ...(ratelab.classes ? { classes: ratelab.classes } : {}),
      ...(plan.outage ? { outage: { from: plan.outage.atMs / 1000, to: (plan.outage.atMs + plan.outage.durationMs) / 1000 } } : {}),
    }),
  );
  return { plan, run, summary, points, thresholdsFailed: run.thresholds.some((t) => t.failed), files, capacity, windowS: windowMs / 1000 };
}

/** The verdict of a run: its figures in production time, and the capacity (and tier) its load needs to go unrefused. */
function runVerdict(plan: ScenarioPlan, r: RunFigures, run: RunResult, s: LoadtestSettings, capacity: number, points: readonly SeriesPoint[]): string {
  const p95 = run.metrics.get('http_req_duration{status:200}')?.trend;
  const wait = run.metrics.get(M.queueWait.name)?.trend;
  const queue = queueFacts(points, wait && wait.count > 0 ? wait.percentile(95) / s.timeScale : undefined);
  const arrivals = arrivalsPerMinute(plan.options, s.timeScale);
  const maxWaitMs = toMs(s.gatewayConfig?.limiter.queue.maxWait ?? 300_000);
  const imagesPerMinute = arrivals ? capacityNeeded(arrivals, maxWaitMs) : undefined;
  const profile = s.target ? undefined : loadProfile(s.profile);
  const safety = s.gatewayConfig?.limiter.budgets.safety ?? 0.9;
  const tier = imagesPerMinute !== undefined && profile ? profileTiers(profile, true).find((t) => (loadTestCapacity(profile, t)?.imagesPerMinute ?? 0) * safety >= imagesPerMinute) : undefined;
  return verdict({
    capacity,
    requests: r.requests,
    images: r.images,
    goodput: r.goodputImagesPerMinute,
    refusalRate: r.gatewayRefusalRate,
    provider429Rate: r.provider429Rate,
    p95Ms: p95 && p95.count > 0 ? p95.percentile(95) / s.timeScale : undefined,
    ...(imagesPerMinute !== undefined ? { needed: { imagesPerMinute, safety, tier } } : {}),
    ...(queue ? { queue } : {}),
  });
}

function headlineFacts(summary: SummaryData, r: RunFigures): [string, string][] {
  const m = summary.metrics;
  const p = (name: string, stat: string) => m[name]?.values[stat];
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  // Production time, the scaled time beside it, as everywhere a person reads.
  const scale = r.timeScale;
  const msv = (x: number | undefined) => (x === undefined ? 'n/a' : productionTime(x, scale));
  const outage = r.outage;
  return [
    ['requests', String(r.requests)],
    ['images delivered', `${r.images} of ${r.requests} requested (${pct(r.requests > 0 ? r.images / r.requests : 0)})`],
    ['goodput', `${r.goodputImagesPerMinute.toFixed(1)} images/min`],
    ['P50 / P95 / P99 (images)', `${msv(p('http_req_duration{status:200}', 'med') ?? p('http_req_duration', 'med'))} / ${msv(p('http_req_duration{status:200}', 'p(95)') ?? p('http_req_duration', 'p(95)'))} / ${msv(p('http_req_duration{status:200}', 'p(99)') ?? p('http_req_duration', 'p(99)'))}`],
    ['P95 from the intended start', msv(p(INTENDED_METRIC, 'p(95)'))],
    ['provider 429 rate', pct(r.provider429Rate)],
    ['gateway refusal rate', pct(r.gatewayRefusalRate)],
    ['dropped iterations', String(r.droppedIterations)],
    ['lost requests', String(r.lostRequests)],
    ...(outage ? [[`outage (HTTP ${outage.status})`, `from ${productionTime(outage.atS * 1000, scale)} for ${productionTime(outage.durationS * 1000, scale)}`] as [string, string]] : []),
    ...(r.timeToRecoverS !== undefined
      ? [['time to recover after the outage', r.timeToRecoverS === null ? 'did not recover' : productionTime(r.timeToRecoverS * 1000, scale)] as [string, string]]
      : []),
    ...slowestFacts(r.slowest ?? [], scale),
    ...instanceFacts(r.instances),
  ];
}

/** A split test's engines: how many, their segments, and where each one's own outputs are. */
function instanceFacts(instances: RunFigures['instances']): [string, string][] {
  if (!instances?.length) return [];
  return [['engines (execution segments)', `${instances.length}, merged from every sample: ${instances.map((i) => `${i.segment} → ${i.out}`).join('; ')}`]];
}

/** The three slowest sampled requests, each with the trace id to look it up by in Jaeger or Tempo. */
export function slowestFacts(slowest: readonly SlowRequest[], scale: number): [string, string][] {
  return slowest.slice(0, 3).map((s, i) => [
    i === 0 ? 'slowest sampled requests (trace id)' : '',
    `${s.traceId} · ${productionTime(s.latencyMs * scale, scale)} · ${s.class} · HTTP ${s.status} · at ${productionTime(s.atS * 1000 * scale, scale)}`,
  ]);
}
