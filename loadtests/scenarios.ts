/**
 * The load tests as data in k6's `options` shape: one source for the k6 scripts
 * (loadtests/*.ts, run natively by k6 >= 0.57) and for ratelab's embedded engine. No
 * imports, no Node or k6 APIs: both runtimes load this file as it is.
 *
 * Rates are images per minute at time scale 1, as fractions of the target's sustainable
 * `capacity`. At time scale s every duration (stages, time unit, grace periods, latency
 * thresholds) is multiplied by s, so a 10-minute peak runs in 60 s at s = 0.1 with the
 * same number of requests.
 */

export const SCENARIO_NAMES = ['steady', 'peak', 'ramp', 'recovery', 'day'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
/** A built-in scenario, or `custom`: your own rate (or VUs) and duration. */
export type RunnableScenario = ScenarioName | 'custom';

/**
 * Your own load: an arrival rate (open model, like k6's constant-arrival-rate) or VUs
 * (closed model), for a while; or whole k6 options (`--options <file>`), already at the
 * run's time scale.
 */
export interface CustomLoad {
  /** Images per minute at time scale 1. */
  rate?: number;
  /** VUs sending one request after another (constant-vus). */
  vus?: number;
  /** ms at time scale 1. */
  durationMs?: number;
  /** k6 options as run (durations already × the time scale), with a line that says where they came from. */
  options?: LoadOptions;
  description?: string;
}

/** The account tier every command starts or simulates unless told (`--tier`). */
export const DEFAULT_TIER = 3;
/** Images per minute the default stack (`ratelab loadtest`: openai profile, tier 3) sustains at scale 1: its IPM limit. */
export const DEFAULT_CAPACITY = 50;
/** The quick start's time scale: a 10-minute scenario takes about a minute. */
export const DEFAULT_TIME_SCALE = 0.1;

export interface ScenarioParams {
  /** Sustainable images per minute of the target at time scale 1. */
  capacity: number;
  timeScale: number;
}

export interface Stage {
  duration: string;
  target: number;
}

interface CommonExecutor {
  startTime?: string;
  gracefulStop?: string;
  exec?: string;
  tags?: Record<string, string>;
  env?: Record<string, string>;
}

export type ExecutorConfig = CommonExecutor &
  (
    | { executor: 'constant-arrival-rate'; rate: number; timeUnit?: string; duration: string; preAllocatedVUs: number; maxVUs?: number }
    | { executor: 'ramping-arrival-rate'; startRate?: number; timeUnit?: string; stages: Stage[]; preAllocatedVUs: number; maxVUs?: number }
    | { executor: 'constant-vus'; vus?: number; duration: string }
    | { executor: 'ramping-vus'; startVUs?: number; stages: Stage[]; gracefulRampDown?: string }
    | { executor: 'per-vu-iterations'; vus?: number; iterations?: number; maxDuration?: string }
    | { executor: 'shared-iterations'; vus?: number; iterations?: number; maxDuration?: string }
  );

export type ThresholdSpec = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

export interface LoadOptions {
  scenarios: Record<string, ExecutorConfig>;
  thresholds: Record<string, ThresholdSpec[]>;
  summaryTrendStats?: string[];
}

export interface ScenarioPlan {
  name: RunnableScenario;
  description: string;
  options: LoadOptions;
  /**
   * The recovery scenario's outage: when it starts and how long it lasts in the run's
   * (scaled) ms, and the fault sent to the mock's admin API, whose durations are at scale 1
   * (the mock scales them by its own time scale).
   */
  outage?: { atMs: number; durationMs: number; fault: { kind: 'outage'; status: 500 | 502 | 503; duration: string } };
}

/**
 * The `day` scenario's demand, as fractions of capacity at each hour 0–24 (linear between):
 * an app used from a few time zones, quiet at 3–4 am (15 %), busy through the afternoon
 * and past capacity for two evening hours (115 % at 7 pm). Mean 64 % of capacity.
 */
export const DIURNAL_CURVE = [0.3, 0.22, 0.17, 0.15, 0.15, 0.18, 0.25, 0.38, 0.55, 0.7, 0.8, 0.85, 0.9, 0.88, 0.85, 0.87, 0.92, 0.98, 1.05, 1.15, 1.1, 0.9, 0.65, 0.45, 0.3] as const;

/** Go duration in ms: k6 parses it, and ms keeps fractions of a scaled second exact. */
const ms = (value: number): string => `${Math.max(0, Math.round(value))}ms`;
const MINUTE = 60_000;

/**
 * Rates are integers in k6; counting per ten minutes keeps a tenth of an image per
 * minute of resolution (0.7 × 5 IPM = 3.5 per minute = 35 per ten minutes).
 */
const PER = 10;

/**
 * An arrival-rate scenario's VUs for a peak of `perMinute` arrivals: arrivals per minute ×
 * minutes an answer may take. Under overload the gateway queues up to 5 min, so a peak needs
 * ~4 min of arrivals in flight; k6 adds VUs beyond the pre-allocated ones only one per
 * dropped iteration.
 */
export function arrivalVus(perMinute: number): { preAllocatedVUs: number; maxVUs: number } {
  return { preAllocatedVUs: Math.ceil(perMinute * 4) + 10, maxVUs: Math.ceil(perMinute * 6.5) + 10 };
}

/**
 * `custom`: `rate` images/min for `durationMs` (or `vus` for that long), both at scale 1 and
 * run at the scale. Thresholds: what every run must keep (provider 429s under 1 %, every
 * answer clear); add your own with --threshold.
 */
export function customScenario(load: CustomLoad, params: ScenarioParams): ScenarioPlan {
  const s = params.timeScale;
  if (!(s > 0)) throw new RangeError(`Expected \`timeScale\` to be a number > 0, got \`${s}\` (${typeof s})`);
  if (load.options) return { name: 'custom', description: load.description ?? 'k6 options', options: load.options };
  if ((load.rate === undefined) === (load.vus === undefined)) throw new RangeError(`Expected exactly one of \`--rate\` and \`--vus\`, got ${load.rate === undefined ? 'neither' : 'both'}`);
  const durationMs = load.durationMs ?? 0;
  if (!(durationMs > 0)) throw new RangeError(`Expected \`--duration\` to be a duration > 0, like 10m, got \`${load.durationMs}\` (${typeof load.durationMs})`);
  const duration = ms(durationMs * s);
  const thresholds = {
    ratelab_provider_429: ['rate<0.01'],
    'checks{check:an image or a clear error}': ['rate>0.99'],
  };
  const minutes = (durationMs / MINUTE).toFixed(1).replace(/\.0$/, '');
  if (load.vus !== undefined) {
    if (!(Number.isInteger(load.vus) && load.vus >= 1)) throw new RangeError(`Expected \`--vus\` to be an integer >= 1, got \`${load.vus}\` (${typeof load.vus})`);
    return {
      name: 'custom',
      description: `${load.vus} VUs, one request after another, for ${minutes} min`,
      options: { scenarios: { custom: { executor: 'constant-vus', vus: load.vus, duration, gracefulStop: ms(5.5 * MINUTE * s), tags: { scenario_kind: 'custom' } } }, thresholds },
    };
  }
  const rate = load.rate!;
  if (!(rate > 0)) throw new RangeError(`Expected \`--rate\` to be a number of images per minute > 0, got \`${rate}\` (${typeof rate})`);
  const vus = arrivalVus(rate);
  return {
    name: 'custom',
    description: `${rate} images/min for ${minutes} min`,
    options: {
      scenarios: { custom: { executor: 'constant-arrival-rate', rate: Math.max(1, Math.round(rate * PER)), timeUnit: ms(PER * MINUTE * s), duration, ...vus, gracefulStop: ms(5.5 * MINUTE * s), tags: { scenario_kind: 'custom' } } },
      thresholds,
    },
  };
}

export function scenario(name: ScenarioName, params: ScenarioParams): ScenarioPlan {
  const { capacity, timeScale: s } = params;
  if (!(capacity > 0)) throw new RangeError(`Expected \`capacity\` to be a number > 0, got \`${capacity}\` (${typeof capacity})`);
  if (!(s > 0)) throw new RangeError(`Expected \`timeScale\` to be a number > 0, got \`${s}\` (${typeof s})`);
  const rate = (fraction: number): number => Math.max(1, Math.round(fraction * capacity * PER));
  const d = (minutes: number): string => ms(minutes * MINUTE * s);
  const timeUnit = ms(PER * MINUTE * s);
  const vus = (peakFraction: number) => arrivalVus(peakFraction * capacity);
  // Requests must be allowed to finish: the gateway's queue waits up to 5 minutes (scaled).
  const gracefulStop = d(5.5);
  const latency = (p95Minutes: number, p99Minutes: number) => [`p(95)<${Math.round(p95Minutes * MINUTE * s)}`, `p(99)<${Math.round(p99Minutes * MINUTE * s)}`];
  const common = {
    // Provider 429s are what the limiter exists to prevent: under 1 % even at 2x overload.
    ratelab_provider_429: ['rate<0.01'],
  };
  // A refused request failed (k6's http_req_failed counts it); how many may fail is the
  // scenario's promise. The check names are loadtests/lib/answers.ts's CHECKS (no imports here).
  const served = (failing: number) => ({
    http_req_failed: [`rate<${failing}`],
    ratelab_gateway_refusals: [`rate<${failing}`],
    'checks{check:an image}': [`rate>${1 - failing}`],
    'checks{check:an image or a clear error}': ['rate>0.99'],
  });

  switch (name) {
    case 'steady':
      return {
        name,
        description: `constant arrivals at 70 % of capacity (${(0.7 * capacity).toFixed(1)} images/min) for 10 min`,
        options: {
          scenarios: {
            steady: { executor: 'constant-arrival-rate', rate: rate(0.7), timeUnit, duration: d(10), ...vus(0.7), gracefulStop, tags: { scenario_kind: 'steady' } },
          },
          thresholds: {
            ...common,
            ...served(0.01),
            'http_req_duration{expected_response:true}': latency(1.5, 2.5),
            dropped_iterations: [`count<${Math.ceil(0.01 * 0.7 * capacity * 10)}`],
          },
        },
      };
    case 'peak':
      return {
        name,
        description: `70 % of capacity, ramp to 200 % (${(2 * capacity).toFixed(0)} images/min), hold 4 min, back to 70 %: 10 min`,
        options: {
          scenarios: {
            peak: {
              executor: 'ramping-arrival-rate',
              startRate: rate(0.7),
              timeUnit,
              stages: [
                { duration: d(1), target: rate(0.7) },
                { duration: d(2), target: rate(2) },
                { duration: d(4), target: rate(2) },
                { duration: d(2), target: rate(0.7) },
                { duration: d(1), target: rate(0.7) },
              ],
              ...vus(2),
              gracefulStop,
              tags: { scenario_kind: 'peak' },
            },
          },
          thresholds: {
            ...common,
            // Overload waits in the gateway's queue (up to 5 min) or is refused clearly, at most one
            // request in ten at 2x for 4 minutes; nothing is lost.
            ...served(0.1),
            'http_req_duration{expected_response:true}': latency(6, 6.5),
            dropped_iterations: [`count<${Math.ceil(0.01 * 1.48 * capacity * 10)}`],
          },
        },
      };
    case 'ramp':
      return {
        name,
        description: `arrivals from 10 % to 150 % of capacity over 20 min, to find the knee`,
        options: {
          scenarios: {
            ramp: { executor: 'ramping-arrival-rate', startRate: rate(0.1), timeUnit, stages: [{ duration: d(20), target: rate(1.5) }], ...vus(1.5), gracefulStop, tags: { scenario_kind: 'ramp' } },
          },
          thresholds: {
            ...common,
            // The last third is past capacity: at most one request in ten refused.
            ...served(0.1),
            'http_req_duration{expected_response:true}': latency(6, 6.5),
          },
        },
      };
    case 'day': {
      const peakFraction = Math.max(...DIURNAL_CURVE);
      // Linear between the hours: each hour's mean is the mean of its ends.
      const mean = DIURNAL_CURVE.slice(1).reduce((sum, v, i) => sum + (v + DIURNAL_CURVE[i]!) / 2, 0) / (DIURNAL_CURVE.length - 1);
      return {
        name,
        description: `24 h of diurnal demand: ${Math.round(100 * DIURNAL_CURVE[3]!)} % of capacity at night, ${Math.round(100 * peakFraction)} % at the 7 pm peak, mean ${Math.round(100 * mean)} % (${(mean * capacity).toFixed(0)} images/min)`,
        options: {
          scenarios: {
            day: {
              executor: 'ramping-arrival-rate',
              startRate: rate(DIURNAL_CURVE[0]),
              timeUnit,
              stages: DIURNAL_CURVE.slice(1).map((fraction) => ({ duration: d(60), target: rate(fraction) })),
              ...vus(peakFraction),
              gracefulStop,
              tags: { scenario_kind: 'day' },
            },
          },
          thresholds: {
            ...common,
            // Two evening hours past capacity: what cannot wait 5 minutes is refused, clearly.
            ...served(0.05),
            'http_req_duration{expected_response:true}': latency(6, 6.5),
          },
        },
      };
    }
    case 'recovery': {
      const outage = { atMs: 3 * MINUTE * s, durationMs: 2 * MINUTE * s, fault: { kind: 'outage' as const, status: 503 as const, duration: '2m' } };
      return {
        name,
        description: `70 % of capacity for 10 min with a 2-min upstream outage (HTTP 503 "engine overloaded") from minute 3; measures time to recover`,
        outage,
        options: {
          scenarios: {
            steady: { executor: 'constant-arrival-rate', rate: rate(0.7), timeUnit, duration: d(10), ...vus(0.7), gracefulStop, tags: { scenario_kind: 'recovery' } },
            // One iteration that tells the mock to fail every request for two minutes.
            outage: { executor: 'shared-iterations', vus: 1, iterations: 1, startTime: ms(outage.atMs), exec: 'injectOutage', maxDuration: d(1), tags: { scenario_kind: 'outage' } },
          },
          thresholds: {
            ...common,
            'http_req_duration{expected_response:true}': latency(6, 6.5),
            // During the outage requests fail (503 circuit_open, 500), clearly: the rest must succeed.
            http_req_failed: ['rate<0.4'],
            'checks{check:an image}': ['rate>0.6'],
            'checks{check:an image or a clear error}': ['rate>0.99'],
          },
        },
      };
    }
  }
}
