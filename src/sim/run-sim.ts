import { scenario, type ScenarioName, type ScenarioPlan } from '../../loadtests/scenarios.ts';
import { DEFAULT_MIX, MIXES, type RequestMix } from '../../loadtests/mixes.ts';
import { MockModel } from '../../mock-server/model/model.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { createLimiter } from '../limiter/limiter.ts';
import type { LimiterConfigInput } from '../limiter/config.ts';
import { runLoad, type RunResult } from '../loadgen/engine.ts';
import { runLengthMs } from '../loadgen/plan-length.ts';
import { recordAnswer } from '../loadgen/image-iteration.ts';
import type { RunSummary } from '../report/run-facts.ts';
import { RunRecorder } from '../report/run-recorder.ts';
import type { SeriesPoint } from '../report/timeseries.ts';
import { checkTier, loadTestCapacity } from './capacity.ts';
import { simCall } from './sim-call.ts';

export interface SimOptions {
  /** A built-in scenario, sized to the account's capacity; or a plan of its own (a trace's replay), in production time. */
  scenario: ScenarioName | ScenarioPlan;
  profile: string;
  tier: number;
  /** The limiter in front of the mock; `none` sends straight to it (what the SDK without retries would). Default: the gateway's defaults. */
  limiter?: LimiterConfigInput | 'none';
  seed: number;
  /** Images/min; default the account's theoretical capacity (`loadTestCapacity`). */
  capacity?: number;
  /** Seconds of virtual time between time-series points. Default 2, or longer for runs past ~33 min: at most ~1 000 points (a day: one per 87 s). */
  tickS?: number;
  /** What the iterations send; default the `single` mix (loadtests/mixes.ts). */
  mix?: RequestMix;
}

export interface SimResult {
  plan: ScenarioPlan;
  run: RunResult;
  summary: RunSummary;
  points: SeriesPoint[];
  /** Requests the mock answered (every attempt). */
  upstreamRequests: number;
  /** Wall-clock ms the simulation took. */
  wallMs: number;
}

/** Time-series points a simulation keeps at most, unless told its tick. */
const MAX_POINTS = 1000;

/**
 * One load test on a virtual clock, seeded: the scenario's arrivals (the embedded engine's
 * executors), the same limiter the gateway runs, and the same mock model the HTTP mock
 * serves, with no sockets and no waiting. Summary and time series have the shape of a real
 * run's, so they compare side by side; the same seed gives byte-identical output.
 */
export async function runSim(o: SimOptions): Promise<SimResult> {
  const wallStart = performance.now();
  // Nothing in a simulation waits on I/O: promise chains settle between instants without a macrotask each.
  const clock = new VirtualClock({ settle: 'microtasks' });
  // The simulator never reads an image (a 200's body is not kept): nothing to render; nor scrapes the mock.
  const model = new MockModel({ profile: o.profile, clock, seed: o.seed, timeScale: 1, images: 'placeholder', metrics: false });
  await model.ready();
  if (o.capacity === undefined) checkTier(model.profile, o.tier, true);
  const capacity = o.capacity ?? loadTestCapacity(model.profile, o.tier)!.imagesPerMinute;
  const plan = typeof o.scenario === 'string' ? scenario(o.scenario, { capacity, timeScale: 1 }) : o.scenario;
  const limiter = o.limiter === 'none' ? undefined : createLimiter(o.limiter ?? {}, { clock, seed: o.seed, name: 'sim', catalogue: model.catalogue });
  const mix = o.mix ?? MIXES[DEFAULT_MIX]!;
  const call = simCall(model, limiter, o.tier, mix, clock);

  // A day at 2 s would be 43 000 points, and a trailing window (5 % of the run) of 2 000 intervals to merge at each.
  const tickMs = o.tickS !== undefined ? o.tickS * 1000 : Math.max(2000, Math.ceil(runLengthMs(plan.options) / MAX_POINTS / 1000) * 1000);
  const recorder = new RunRecorder({ plan, tickMs, startedAt: clock.now(), mix });
  const metrics = recorder.metrics;
  const result = runLoad({
    options: plan.options,
    clock,
    ...recorder.engineOptions(),
    iterations: () => {
      return {
        default: async (ctx) => {
          const sentAt = clock.now();
          const answer = await call(ctx.vu, ctx.iteration, ctx.iterationInTest);
          const doneAt = clock.now();
          recordAnswer(metrics, ctx, { status: answer.status, text: answer.text, error: answer.error, headers: answer.timing, sentAt, firstByteAt: doneAt, doneAt, bytesSent: answer.bytesSent, class: answer.class, firstImageAt: answer.firstImageAt });
        },
        injectOutage: async () => {
          if (plan.outage) model.faults.inject({ kind: 'outage', status: plan.outage.fault.status, at: 0, duration: plan.outage.durationMs }, clock.now());
        },
      };
    },
  });
  let sampling = true;
  const sample = (): void => {
    if (!sampling) return;
    recorder.sample(clock.now(), 0);
    clock.setTimer(sample, tickMs);
  };
  clock.setTimer(sample, tickMs);
  // Drive virtual time until the run settles.
  let settled = false;
  const done = result.finally(() => {
    settled = true;
    sampling = false;
  });
  await clock.runUntil(() => settled);
  const run = await done;
  recorder.sample(clock.now(), 0);
  limiter?.close();
  model.close();
  const points = recorder.points;
  const summary = recorder.summary(run, { ...recorder.figures(run, { engine: 'sim', timeScale: 1, capacity, provider: model.stats }), seed: o.seed });
  // The sim's summary must not depend on the terminal it ran in.
  summary.state.isStdOutTTY = false;
  summary.state.isStdErrTTY = false;
  return { plan, run, summary, points, upstreamRequests: model.stats.total, wallMs: performance.now() - wallStart };
}
