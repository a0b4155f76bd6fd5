import { z } from 'zod';
import type { ExecutorConfig, LoadOptions, ThresholdSpec } from '../../loadtests/scenarios.ts';
import { readConfigFile } from '../core/config-file.ts';
import { toMs } from '../core/duration.ts';
import { duration, intAtLeast, parseOrThrow } from '../core/validation.ts';
import { scaleThreshold } from '../report/production-time.ts';

const count = intAtLeast(1);
const stages = z.array(z.object({ duration, target: intAtLeast(0) }).strict()).min(1);

const common = {
  startTime: duration.optional(),
  gracefulStop: duration.optional(),
  // The embedded engine has one request function, as ratelab's scripts do.
  exec: z.literal('default', { error: 'only "default" (the image request: ratelab runs no other function)' }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
};

/** k6's executors as ratelab runs them (https://grafana.com/docs/k6/latest/using-k6/scenarios/executors/), each strict so a misspelt key is named. */
const executor = z.discriminatedUnion(
  'executor',
  [
    z.object({ executor: z.literal('constant-arrival-rate'), rate: count, timeUnit: duration.optional(), duration, preAllocatedVUs: count, maxVUs: count.optional(), ...common }).strict(),
    z.object({ executor: z.literal('ramping-arrival-rate'), startRate: intAtLeast(0).optional(), timeUnit: duration.optional(), stages, preAllocatedVUs: count, maxVUs: count.optional(), ...common }).strict(),
    z.object({ executor: z.literal('constant-vus'), vus: count.optional(), duration, ...common }).strict(),
    z.object({ executor: z.literal('ramping-vus'), startVUs: intAtLeast(0).optional(), stages, gracefulRampDown: duration.optional(), ...common }).strict(),
    z.object({ executor: z.literal('per-vu-iterations'), vus: count.optional(), iterations: count.optional(), maxDuration: duration.optional(), ...common }).strict(),
    z.object({ executor: z.literal('shared-iterations'), vus: count.optional(), iterations: count.optional(), maxDuration: duration.optional(), ...common }).strict(),
  ],
  { error: 'one of "constant-arrival-rate", "ramping-arrival-rate", "constant-vus", "ramping-vus", "per-vu-iterations", "shared-iterations"' },
);

const threshold = z.union([z.string(), z.object({ threshold: z.string(), abortOnFail: z.boolean().optional(), delayAbortEval: duration.optional() }).strict()]);

/**
 * The part of k6's `options` a ratelab run honours: scenarios, thresholds and
 * summaryTrendStats, or the shortcuts (`vus` + `duration`, `stages`, `iterations`) that k6
 * turns into one scenario named `default`.
 */
const optionsSchema = z
  .object({
    scenarios: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'a scenario name of letters, digits, _ and -' }), executor).optional(),
    thresholds: z.record(z.string(), z.union([z.array(threshold), threshold])).optional(),
    summaryTrendStats: z.array(z.string()).optional(),
    vus: count.optional(),
    duration: duration.optional(),
    stages: stages.optional(),
    iterations: count.optional(),
  })
  .strict();

type ParsedOptions = z.output<typeof optionsSchema>;

/** k6's shortcut options as the one scenario k6 makes of them. */
function scenariosOf(o: ParsedOptions): Record<string, ExecutorConfig> {
  const shortcut = o.stages ?? o.duration ?? o.iterations;
  if (o.scenarios && shortcut !== undefined) throw new RangeError('Expected either `scenarios` or the shortcuts (`vus`, `duration`, `stages`, `iterations`) in the options file, got both (k6 refuses that too)');
  if (o.scenarios) {
    if (Object.keys(o.scenarios).length === 0) throw new RangeError('Expected `scenarios` to hold at least one scenario, got `{}` (object)');
    return o.scenarios as Record<string, ExecutorConfig>;
  }
  if (o.stages) return { default: { executor: 'ramping-vus', startVUs: o.vus ?? 1, stages: o.stages.map((s) => ({ duration: `${s.duration}ms`, target: s.target })) } };
  if (o.duration !== undefined) return { default: { executor: 'constant-vus', vus: o.vus ?? 1, duration: `${o.duration}ms` } };
  if (o.iterations !== undefined) return { default: { executor: 'shared-iterations', vus: o.vus ?? 1, iterations: o.iterations } };
  throw new RangeError('Expected `scenarios`, or `vus` with `duration`, `stages` or `iterations`, in the options file, got none: e.g. { "scenarios": { "busy": { "executor": "constant-arrival-rate", "rate": 80, "timeUnit": "1m", "duration": "10m", "preAllocatedVUs": 400 } } }');
}

const DURATION_KEYS = ['startTime', 'gracefulStop', 'timeUnit', 'duration', 'maxDuration', 'gracefulRampDown'] as const;

/** k6 options written in production time, as run at `timeScale`: every duration × the scale, rates per (scaled) time unit unchanged. */
export function scaleOptions(options: { scenarios: Record<string, ExecutorConfig>; thresholds: Record<string, ThresholdSpec[]>; summaryTrendStats?: string[] }, timeScale: number): LoadOptions {
  // Durations arrive in ms (the validation's `duration` reads Go strings and numbers alike); k6 takes them back as "<n>ms".
  const scaled = (ms: number | string): string => `${Number((toMs(ms) * timeScale).toPrecision(12))}ms`;
  const scenarios: Record<string, ExecutorConfig> = {};
  for (const [name, c] of Object.entries(options.scenarios)) {
    const copy: Record<string, unknown> = { ...c };
    for (const key of DURATION_KEYS) if (copy[key] !== undefined) copy[key] = scaled(copy[key] as number | string);
    if ('stages' in c) copy.stages = c.stages.map((s) => ({ ...s, duration: scaled(s.duration) }));
    scenarios[name] = copy as unknown as ExecutorConfig;
  }
  const thresholds: Record<string, ThresholdSpec[]> = {};
  for (const [metric, list] of Object.entries(options.thresholds)) {
    thresholds[metric] = list.map((t) =>
      typeof t === 'string'
        ? scaleThreshold(metric, t, timeScale)
        : { ...t, threshold: scaleThreshold(metric, t.threshold, timeScale), ...(t.delayAbortEval !== undefined ? { delayAbortEval: scaled(t.delayAbortEval) } : {}) },
    );
  }
  return { scenarios, thresholds, ...(options.summaryTrendStats ? { summaryTrendStats: options.summaryTrendStats } : {}) };
}

/**
 * Reads a k6 options file (JSON or YAML, production time: what `--options` takes) and
 * returns it as run at `timeScale`, with a line that describes it. Bad input is refused
 * naming the field, the expectation and the value.
 */
export function loadOptionsFile(path: string, timeScale: number): { options: LoadOptions; description: string } {
  const parsed = parseOrThrow(optionsSchema, readConfigFile(path, 'k6 options file'), `k6 options file \`${path}\``);
  const scenarios = scenariosOf(parsed);
  const thresholds = Object.fromEntries(Object.entries(parsed.thresholds ?? {}).map(([m, t]) => [m, (Array.isArray(t) ? t : [t]) as ThresholdSpec[]]));
  const names = Object.keys(scenarios);
  return {
    options: scaleOptions({ scenarios, thresholds, ...(parsed.summaryTrendStats ? { summaryTrendStats: parsed.summaryTrendStats } : {}) }, timeScale),
    description: `k6 options from ${path}: ${names.length} scenario${names.length > 1 ? 's' : ''} (${names.join(', ')})`,
  };
}
