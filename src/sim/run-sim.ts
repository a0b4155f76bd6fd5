import { imageRequestBody } from '../../loadtests/lib/answers.ts';
import { scenario, type ScenarioName, type ScenarioPlan } from '../../loadtests/scenarios.ts';
import { MockModel } from '../../mock-server/model/model.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { costInputOf } from '../openai/cost.ts';
import { validateImageRequest } from '../openai/request.ts';
import { executionAnswer } from '../gateway/image-call.ts';
import { createLimiter } from '../limiter/limiter.ts';
import type { LimiterConfigInput } from '../limiter/config.ts';
import { runLoad, type RunResult } from '../loadgen/engine.ts';
import { recordAnswer } from '../loadgen/image-iteration.ts';
import type { RunSummary } from '../report/run-facts.ts';
import { RunRecorder } from '../report/run-recorder.ts';
import type { SeriesPoint } from '../report/timeseries.ts';
import { checkTier, loadTestCapacity } from './capacity.ts';

export interface SimOptions {
  scenario: ScenarioName;
  profile: string;
  tier: number;
  /** The limiter in front of the mock; `none` sends straight to it (what the SDK without retries would). Default: the gateway's defaults. */
  limiter?: LimiterConfigInput | 'none';
  seed: number;
  /** Images/min; default the account's theoretical capacity (`loadTestCapacity`). */
  capacity?: number;
  /** Seconds of virtual time between time-series points. Default 2. */
  tickS?: number;
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

const ENCODER = new TextEncoder();

/**
 * One load test on a virtual clock, seeded: the scenario's arrivals (the embedded engine's
 * executors), the same limiter the gateway runs, and the same mock model the HTTP mock
 * serves, with no sockets and no waiting. Summary and time series have the shape of a real
 * run's, so they compare side by side; the same seed gives byte-identical output.
 */
export async function runSim(o: SimOptions): Promise<SimResult> {
  const wallStart = performance.now();
  const clock = new VirtualClock();
  // The simulator never reads an image (a 200's body is not kept): nothing to render.
  const model = new MockModel({ profile: o.profile, clock, seed: o.seed, timeScale: 1, images: 'placeholder' });
  await model.ready();
  if (o.capacity === undefined) checkTier(model.profile, o.tier, true);
  const capacity = o.capacity ?? loadTestCapacity(model.profile, o.tier)!.imagesPerMinute;
  const plan = scenario(o.scenario, { capacity, timeScale: 1 });
  const limiter = o.limiter === 'none' ? undefined : createLimiter(o.limiter ?? {}, { clock, seed: o.seed, name: 'sim', catalogue: model.catalogue });
  const headers = { authorization: `Bearer sk-tier${o.tier}-sim`, 'content-type': 'application/json' };
  const call = (body: Uint8Array) => model.handle({ method: 'POST', path: '/v1/images/generations', headers, body, loopback: true });

  const tickMs = (o.tickS ?? 2) * 1000;
  const recorder = new RunRecorder({ plan, tickMs, startedAt: clock.now() });
  const metrics = recorder.metrics;
  const result = runLoad({
    options: plan.options,
    clock,
    ...recorder.engineOptions(),
    iterations: () => {
      return {
        default: async (ctx) => {
          const body = ENCODER.encode(imageRequestBody(ctx.vu, ctx.iteration, model.profile.defaultModel));
          const sentAt = clock.now();
          let status: number;
          let text = '';
          const timing: Record<string, string> = {};
          if (!limiter) {
            const res = await call(body);
            status = res.reset ? 0 : res.status;
            if (status !== 200) text = res.body;
          } else {
            const execution = await limiter.execute(
              async () => {
                const res = await call(body);
                if (res.reset) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
                return new Response(res.status === 200 ? null : res.body, { status: res.status, headers: res.headers });
              },
              // Priced exactly as the gateway prices it: from the validated request.
              { cost: costInputOf(validateImageRequest('application/json', body, { catalogue: model.catalogue })) },
            );
            const answer = await executionAnswer(execution, 'sim');
            status = answer.status;
            if (status !== 200) text = answer.body.toString('utf8');
            Object.assign(timing, answer.timing);
          }
          const doneAt = clock.now();
          recordAnswer(metrics, ctx, { status, text, headers: timing, sentAt, firstByteAt: doneAt, doneAt, bytesSent: body.length });
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
