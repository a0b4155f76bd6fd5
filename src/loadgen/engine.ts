import type { ExecutorConfig, LoadOptions } from '../../loadtests/scenarios.ts';
import { realClock, type Clock } from '../core/clock.ts';
import { toMs } from '../core/duration.ts';
import { K6_BUILTIN_METRICS, LOADTEST_METRICS } from '../metrics/catalogue.ts';
import { ExecutionTuple } from './execution-segment.ts';
import { constantArrivals, rampingArrivals, rateSegments } from './executors/arrival-schedule.ts';
import { runArrivalRate } from './executors/arrival-rate.ts';
import { runConstantVus, runIterations, runRampingVus } from './executors/closed-model.ts';
import { VuCounter, type ExecutorRuntime, type IterationFn } from './iteration.ts';
import { Metrics, type Metric } from './metrics.ts';
import { aggregate, parseThreshold, passes, type Threshold } from './thresholds.ts';

/** Latency from the intended start (the due time), beside http_req_duration from the actual send. */
export const INTENDED_METRIC = 'ratelab_req_duration_intended';

export interface RunLoadOptions {
  options: LoadOptions;
  /** Builds the iteration functions by `exec` name (`default` unless a scenario names another). */
  iterations: (metrics: Metrics) => Record<string, IterationFn>;
  /** The run's metrics, made by the caller so it can listen from the start (time series, live export); the engine defines k6's and ratelab's on it. Default: new ones. */
  metrics?: Metrics;
  clock?: Clock;
  /** Threshold evaluation period; k6 uses 2 s. */
  evaluateEveryMs?: number;
  /** Stops the run from outside (Ctrl-C): like abortOnFail, running iterations are interrupted. */
  signal?: AbortSignal;
  /** Tag-filtered sub-metrics to keep beside the thresholds' own, e.g. `http_req_duration{status:200}`. */
  subMetrics?: string[];
  /** Told when an iteration starts and when one is dropped (offered load, for time series). */
  onOffered?: (started: boolean) => void;
  /** This engine's share of a test split across several (k6's --execution-segment); default the whole test. */
  segment?: ExecutionTuple;
}

export interface RunResult {
  metrics: Metrics;
  thresholds: Threshold[];
  /** A threshold with abortOnFail failed (or the run was stopped). */
  aborted: boolean;
  startedAt: number;
  durationMs: number;
  vus: VuCounter;
}

const CONTAINS: Record<string, Metric['contains']> = {
  http_req_duration: 'time',
  http_req_waiting: 'time',
  iteration_duration: 'time',
  data_sent: 'data',
  data_received: 'data',
};

/** Metrics whose values are durations (ms): what a time scale stretches. */
export const TIME_METRICS: ReadonlySet<string> = new Set([
  ...Object.entries(CONTAINS).flatMap(([name, c]) => (c === 'time' ? [name] : [])),
  ...Object.values(LOADTEST_METRICS).flatMap((m) => ('isTime' in m && m.isTime ? [m.name] : [])),
  INTENDED_METRIC,
]);

/** k6's built-in metrics and ratelab's, as every run defines them. */
export function defineMetrics(metrics: Metrics): void {
  for (const [name, type] of Object.entries(K6_BUILTIN_METRICS)) metrics.define(name, type, CONTAINS[name] ?? 'default');
  for (const m of Object.values(LOADTEST_METRICS)) metrics.define(m.name, m.type, 'isTime' in m && m.isTime ? 'time' : 'default');
  metrics.define(INTENDED_METRIC, 'trend', 'time');
}

const ms = (v: string | number | undefined, fallback: number): number => (v === undefined ? fallback : toMs(v));

/** The due times of the iterations `et` owns: the whole test's schedule, striped, so N engines add up to one. */
function* owned(offsets: Iterable<number>, et: ExecutionTuple): Generator<number> {
  let i = 0;
  for (const offset of offsets) if (et.owns(i++)) yield offset;
}

/** An arrival-rate scenario's VUs on one segment: at least one wherever the scenario has any, or its iterations could never start. */
const vusOf = (et: ExecutionTuple, value: number): number => (value > 0 ? Math.max(1, et.scale(value)) : 0);

/** Runs one scenario's executor with k6's semantics, on this engine's segment of it. */
function runExecutor(rt: ExecutorRuntime, c: ExecutorConfig, et: ExecutionTuple): Promise<void> {
  const gracefulStopMs = ms(c.gracefulStop, 30_000);
  switch (c.executor) {
    case 'constant-arrival-rate': {
      const durationMs = toMs(c.duration);
      return runArrivalRate(rt, {
        offsets: owned(constantArrivals(c.rate, ms(c.timeUnit, 1000), durationMs), et),
        durationMs,
        preAllocatedVUs: vusOf(et, c.preAllocatedVUs),
        maxVUs: vusOf(et, Math.max(c.maxVUs ?? c.preAllocatedVUs, c.preAllocatedVUs)),
        gracefulStopMs,
      });
    }
    case 'ramping-arrival-rate': {
      const stages = c.stages.map((s) => ({ durationMs: toMs(s.duration), target: s.target }));
      return runArrivalRate(rt, {
        offsets: owned(rampingArrivals(rateSegments(c.startRate ?? 0, ms(c.timeUnit, 1000), stages)), et),
        durationMs: stages.reduce((a, s) => a + s.durationMs, 0),
        preAllocatedVUs: vusOf(et, c.preAllocatedVUs),
        maxVUs: vusOf(et, Math.max(c.maxVUs ?? c.preAllocatedVUs, c.preAllocatedVUs)),
        gracefulStopMs,
      });
    }
    case 'constant-vus':
      return runConstantVus(rt, { vus: et.scale(c.vus ?? 1), durationMs: toMs(c.duration), gracefulStopMs });
    case 'ramping-vus':
      return runRampingVus(rt, {
        startVUs: c.startVUs ?? 1,
        stages: c.stages.map((s) => ({ durationMs: toMs(s.duration), target: s.target })),
        share: (vus) => et.scale(vus),
        gracefulStopMs,
        gracefulRampDownMs: ms(c.gracefulRampDown, 30_000),
      });
    case 'per-vu-iterations':
    case 'shared-iterations':
      return runIterations(rt, {
        vus: et.scale(c.vus ?? 1),
        // Shared iterations are split like VUs; per-VU iterations follow the VUs.
        iterations: c.executor === 'shared-iterations' ? et.scale(c.iterations ?? 1) : (c.iterations ?? 1),
        shared: c.executor === 'shared-iterations',
        maxDurationMs: ms(c.maxDuration, 600_000),
        gracefulStopMs,
      });
  }
}

/**
 * The embedded engine: every scenario of `options` from its startTime with its executor's
 * k6 semantics, k6's built-in metrics, thresholds evaluated every 2 s (abortOnFail,
 * delayAbortEval) and at the end.
 */
export async function runLoad(o: RunLoadOptions): Promise<RunResult> {
  const clock = o.clock ?? realClock;
  const metrics = o.metrics ?? new Metrics();
  defineMetrics(metrics);
  const thresholds: Threshold[] = [];
  for (const [name, specs] of Object.entries(o.options.thresholds ?? {})) {
    const metric = metrics.get(name) ?? metrics.subMetric(name);
    for (const spec of specs) thresholds.push(parseThreshold(name, spec, metric.type));
  }
  for (const name of o.subMetrics ?? []) metrics.subMetric(name);
  const fns = o.iterations(metrics);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const vus = new VuCounter();
  const segment = o.segment ?? new ExecutionTuple(undefined, undefined);
  const startedAt = clock.now();

  // Between the end-of-run evaluation, only thresholds that may abort the run need evaluating
  // (a trend percentile walks its histogram: in a simulation this was an eighth of the time).
  const aborting = thresholds.some((t) => t.abortOnFail);
  const evaluate = (final: boolean): void => {
    const elapsed = clock.now() - startedAt;
    if (!final) metrics.add('vus', vus.busy);
    if (!final && !aborting) return;
    for (const t of thresholds) {
      t.failed = !passes(t, aggregate(metrics.get(t.metric)!, t.aggregation, elapsed));
      if (!final && t.failed && t.abortOnFail && elapsed >= t.delayAbortEvalMs) stop.abort();
    }
  };
  const every = o.evaluateEveryMs ?? 2_000;
  let evalTimer = clock.setTimer(function tick() {
    evaluate(false);
    evalTimer = clock.setTimer(tick, every);
  }, every);

  const runs = Object.entries(o.options.scenarios).map(async ([scenario, config]) => {
    const exec = fns[config.exec ?? 'default'];
    if (!exec) throw new RangeError(`Expected scenario \`${scenario}\`'s exec to name an iteration function, got \`${config.exec ?? 'default'}\` (string)`);
    const rt: ExecutorRuntime = {
      clock,
      scenario,
      exec,
      vus,
      stopped: stop.signal,
      dropped: () => {
        metrics.add('dropped_iterations', 1, { scenario });
        o.onOffered?.(false);
      },
      started: () => o.onOffered?.(true),
      iterationDone: (d) => {
        if (d.interrupted) return;
        const tags = { scenario };
        metrics.add('iterations', 1, tags);
        metrics.add('iteration_duration', d.durationMs, tags);
      },
    };
    const startTime = ms(config.startTime, 0);
    if (startTime > 0) {
      try {
        await clock.sleep(startTime, stop.signal);
      } catch {
        return;
      }
    }
    await runExecutor(rt, config, segment);
  });
  try {
    await Promise.all(runs);
  } finally {
    evalTimer.cancel();
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
  evaluate(true);
  metrics.add('vus_max', vus.initialized);
  return { metrics, thresholds, aborted: stop.signal.aborted, startedAt, durationMs: clock.now() - startedAt, vus };
}
