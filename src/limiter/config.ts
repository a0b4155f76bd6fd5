import { z } from 'zod';
import { readConfigFile } from '../core/config-file.ts';
import { duration, intAtLeast, numberBetween, parseOrThrow } from '../core/validation.ts';
import { modelOverrideSchema } from '../openai/catalogue-schema.ts';

const fraction = numberBetween(0, 1);

const budgetSchema = z
  .object({
    /** The provider's limit per window, or `auto` to learn it from x-ratelimit-limit-* headers. */
    limit: z.union([intAtLeast(1), z.literal('auto')], { error: 'an integer >= 1 or "auto"' }),
    /**
     * Units that may pass at once after idle. Default: the whole (safety-scaled) limit, which
     * is what a provider's token bucket allows; lower it for providers that enforce the limit
     * over shorter periods. A single cost above the burst can never pass.
     */
    burst: z.number().positive({ error: 'a number > 0' }).optional(),
  })
  .strict();

/** A model's prices, as the catalogue writes them (per image, or per million tokens). */
const modelPrices = modelOverrideSchema.shape.prices.unwrap();

export const limiterConfigSchema = z
  .object({
    budgets: z
      .object({
        rpm: budgetSchema.optional(),
        ipm: budgetSchema.optional(),
        tpm: budgetSchema.optional(),
        /** Share of each limit the limiter uses, leaving room for clock skew and other clients. */
        safety: numberBetween(0.1, 1).default(0.9),
        window: duration.default(60_000),
        /** Read x-ratelimit-* from responses: lower local budgets to what the provider says remains, and learn `auto` limits. */
        syncFromHeaders: z.boolean().default(true),
        /** What x-ratelimit-*-requests counts for the images endpoint: images (IPM) or requests (RPM). */
        requestsHeader: z.enum(['ipm', 'rpm']).default('ipm'),
      })
      .strict()
      .prefault({}),
    concurrency: z
      .object({
        mode: z.enum(['fixed', 'adaptive']).default('adaptive'),
        /** The fixed limit, or where the adaptive one starts. */
        limit: intAtLeast(1).default(8),
        min: intAtLeast(1).default(1),
        max: intAtLeast(1).default(256),
        /**
         * Adaptive: from `limit`, +1 per success while every slot is busy (the limit doubles each
         * round trip) until the first contention answer or latency gradient; then +1 per round trip.
         */
        slowStart: z.boolean().default(true),
        /** Multiplicative decrease on contention (429 without rate_limit_exceeded, 503) and timeouts. */
        decrease: numberBetween(0.1, 0.99).default(0.9),
        /** Short-term latency above long-term × tolerance is read as queueing upstream, and shrinks the limit. */
        tolerance: z.number().min(1, { error: 'a number >= 1' }).default(1.5),
        /** How far one latency sample moves the limit toward its gradient (0–1). */
        smoothing: fraction.default(0.2),
        /** Samples in the short-term latency average. */
        shortSamples: intAtLeast(1).default(10),
        /** Samples in the long-term latency average (the no-load reference). */
        longSamples: intAtLeast(2).default(500),
      })
      .strict()
      .refine((c) => c.min <= c.max && c.limit >= c.min && c.limit <= c.max, { message: 'min <= limit <= max', path: ['limit'] })
      .prefault({}),
    queue: z
      .object({
        maxSize: intAtLeast(0).default(10_000),
        /** Longest a task may wait for its turn (its deadline unless the call gives one). */
        maxWait: duration.default(300_000),
        /**
         * Refuse a new task at once (deadline_unmeetable, with retry-after) when what waits at
         * its priority and above cannot pass the budgets and the concurrency limit before its
         * deadline; off, such a task is refused when it reaches the head of the queue.
         */
        refuseEarly: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        /** Attempts per task, the first included. */
        maxAttempts: intAtLeast(1).default(4),
        baseDelay: duration.default(1000),
        /** Cap of the jittered backoff; a provider's retry-after is honoured at any length. */
        maxDelay: duration.default(60_000),
        /** Retries may be at most this share of first attempts (Google SRE: 10 %). */
        budgetRatio: fraction.default(0.1),
        /** Retries allowed regardless of the ratio, so a quiet service can still retry. */
        budgetMinimum: intAtLeast(0).default(10),
        /**
         * Aborts an attempt's `ctx.signal` after this long (a timeout: retried, counted by the
         * circuit breaker). Default: none, the call's own timeout applies (the openai SDK's is 10 min).
         */
        attemptTimeout: duration.optional(),
      })
      .strict()
      .prefault({}),
    circuit: z
      .object({
        enabled: z.boolean().default(true),
        /** Opens when this share of the last `window` outcomes failed (server errors, timeouts, resets). */
        failureRate: numberBetween(0.01, 1).default(0.5),
        window: intAtLeast(1).default(20),
        minimumRequests: intAtLeast(1).default(10),
        openFor: duration.default(30_000),
        halfOpenProbes: intAtLeast(1).default(2),
        /**
         * `minimumRequests` contention answers in a row (429 without a limit code, 503
         * overloaded) with no success between them open the circuit too: an outage that
         * answers "engine overloaded" is an outage.
         */
        contentionOpens: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    spend: z
      .object({
        /** USD per period; absent = no spend guard. */
        budget: z.number().positive().optional(),
        period: duration.default(86_400_000),
        warnAt: fraction.default(0.8),
        /** From here on only high and critical priority is admitted. */
        highOnlyAt: fraction.default(0.95),
        /**
         * Prices by model id where yours differ from the catalogue's list prices (src/openai/models.ts):
         * `{ kind: per-token, textIn, textInCached, imageIn, imageInCached, imageOut, source }` in USD
         * per million tokens, or `{ kind: per-image, table, source }`. Default: the catalogue's.
         */
        prices: z.record(z.string().min(1), modelPrices).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type LimiterConfig = z.output<typeof limiterConfigSchema>;
export type LimiterConfigInput = z.input<typeof limiterConfigSchema>;
export type BudgetConfig = z.output<typeof budgetSchema>;

export function parseLimiterConfig(input: unknown = {}): LimiterConfig {
  return parseOrThrow(limiterConfigSchema, input ?? {}, 'limiter config');
}

export function loadLimiterConfig(path: string): LimiterConfig {
  return parseLimiterConfig(readConfigFile(path, 'limiter config'));
}
