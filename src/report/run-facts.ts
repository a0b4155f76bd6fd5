import type { SlowRequest } from '../loadgen/iteration-traces.ts';
import { LOADTEST_METRICS } from '../metrics/catalogue.ts';
import type { Trend } from '../loadgen/trend.ts';
import type { MixPriority, RequestMix } from '../../loadtests/mixes.ts';
import { CHECKS } from '../../loadtests/lib/answers.ts';
import type { ScenarioPlan } from '../../loadtests/scenarios.ts';
import type { RunResult } from '../loadgen/engine.ts';
import type { SummaryData } from './k6-summary.ts';

/** What the provider answered (the mock's stats), every attempt counted. */
export interface ProviderCounts {
  total: number;
  byStatus: Record<string, number>;
  images: number;
}

/**
 * The sub-metrics every run keeps beside k6's own, since its figures read them: images
 * (`status:200`), requests that got no answer (`status:0`), and each check by name.
 */
export const RUN_SUB_METRICS: readonly string[] = ['http_req_duration{status:200}', 'http_reqs{status:0}', ...Object.values(CHECKS).map((c) => `checks{check:${c}}`)];

/** What the provider answered, in a run's figures. */
export interface ProviderFigures {
  requests: number;
  status429: number;
  rate429: number;
  images: number;
  byStatus: Record<string, number>;
}

/**
 * ratelab's figures of one run (`summary.ratelab`), the same for a load test and a
 * simulation: what the tuner, `compare`, `sim` and the report rank and print.
 */
/** One request class of the run's mix: what it sent and what came back, latencies in production time. */
export interface ClassFigures {
  class: string;
  /** Its share of the mix's weights. */
  share: number;
  /** The gateway priority it was sent at. */
  priority: MixPriority;
  requests: number;
  images: number;
  /** Median and P95 of its successful requests, ms at scale 1 (null: no image). */
  p50Ms: number | null;
  p95Ms: number | null;
  /** P95 of the time to its first image, ms at scale 1: a streamed class's first partial, else the whole answer. */
  firstImageP95Ms: number | null;
}

/** The sub-metrics a run keeps per class of a mix of more than one class. */
export const classSubMetrics = (cls: string): string[] => [
  `http_reqs{class:${cls}}`,
  `http_req_duration{class:${cls},status:200}`,
  `${LOADTEST_METRICS.timeToFirstImage.name}{class:${cls}}`,
  `checks{check:${CHECKS.image},class:${cls}}`,
];

export interface RunFigures {
  scenario: string;
  description: string;
  /** The request mix's name (loadtests/mixes.ts, or the mix file's). */
  mix: string;
  /** Per class, for a mix of more than one. */
  classes?: ClassFigures[];
  engine: string;
  timeScale: number;
  capacityImagesPerMinute: number;
  requests: number;
  images: number;
  /** Images per minute at scale 1 over the whole run, the drain included. */
  goodputImagesPerMinute: number;
  provider429Rate: number;
  gatewayRefusalRate: number;
  /** The gateway's refusals by `error.code`, most frequent first. */
  refusalsByReason: Record<string, number>;
  droppedIterations: number;
  lostRequests: number;
  aborted: boolean;
  provider?: ProviderFigures;
  /** A load test's gateway. */
  target?: string;
  /** The recovery scenario's outage, in seconds as run. */
  outage?: { atS: number; durationS: number; status: number };
  /** Seconds from the outage's end until successes are back to 90 % of answers: as run (null: never), and at scale 1. */
  timeToRecoverS?: number | null;
  timeToRecoverAtScale1S?: number | null;
  /** The run in one paragraph, production time. */
  verdict?: string;
  /** A simulation's seed. */
  seed?: number;
  /** A load test's slowest sampled requests with their trace ids, slowest first (production time). */
  slowest?: SlowRequest[];
  /** A test split across engines (execution segments): each one's segment and where its own outputs are. */
  instances?: { segment: string; out: string }[];
  /** What a load test's `afterRun` hook adds, under its key (e.g. `alerts`). */
  [extra: string]: unknown;
}

/** A run's summary: k6's handleSummary shape with ratelab's figures. */
export type RunSummary = SummaryData & { ratelab: RunFigures };

/**
 * ratelab's own figures for a run's summary (`summary.ratelab`), the same for a real run
 * and a simulated one so they compare field by field. Goodput is successful images per
 * minute at scale 1 over the whole run (queued requests drain after the last arrival).
 */
export function runFacts(run: RunResult, o: { plan: ScenarioPlan; mix: RequestMix; engine: string; timeScale: number; capacity: number; provider?: ProviderCounts; refusalsByReason?: Record<string, number> }): RunFigures {
  // Answers that brought an image: a 200 stream that ended in an error event did not.
  const images = run.metrics.get(`checks{check:${CHECKS.image}}`)?.passes ?? 0;
  const provider429 = o.provider?.byStatus['429'] ?? 0;
  return {
    scenario: o.plan.name,
    description: o.plan.description,
    mix: o.mix.name,
    ...(o.mix.classes.length > 1 ? { classes: classFigures(run, o.mix, o.timeScale) } : {}),
    engine: o.engine,
    timeScale: o.timeScale,
    capacityImagesPerMinute: o.capacity,
    requests: run.metrics.get('http_reqs')!.sum,
    images,
    goodputImagesPerMinute: (images / (Math.max(run.durationMs, 1) / 1000)) * 60 * o.timeScale,
    provider429Rate: run.metrics.get('ratelab_provider_429')!.rate,
    gatewayRefusalRate: run.metrics.get('ratelab_gateway_refusals')!.rate,
    refusalsByReason: o.refusalsByReason ?? {},
    droppedIterations: run.metrics.get('dropped_iterations')!.sum,
    // A request that got no answer at all (status 0); interrupted iterations at the end are not requests sent.
    lostRequests: run.metrics.get('http_reqs{status:0}')?.sum ?? 0,
    aborted: run.aborted,
    ...(o.provider
      ? { provider: { requests: o.provider.total, status429: provider429, rate429: o.provider.total > 0 ? provider429 / o.provider.total : 0, images: o.provider.images, byStatus: { ...o.provider.byStatus } } }
      : {}),
  };
}

function classFigures(run: RunResult, mix: RequestMix, timeScale: number): ClassFigures[] {
  const total = mix.classes.reduce((a, c) => a + c.weight, 0);
  return mix.classes.map((c) => {
    const [reqs, ok, first, image] = classSubMetrics(c.name).map((name) => run.metrics.get(name));
    const at1 = (trend: Trend | undefined, p: number): number | null => (trend && trend.count > 0 ? trend.percentile(p) / timeScale : null);
    return { class: c.name, share: c.weight / total, priority: c.priority ?? 'normal', requests: reqs?.sum ?? 0, images: image?.passes ?? 0, p50Ms: at1(ok?.trend, 50), p95Ms: at1(ok?.trend, 95), firstImageP95Ms: at1(first?.trend, 95) };
  });
}
