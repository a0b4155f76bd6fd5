import { z } from 'zod';
import { duration, intAtLeast, numberBetween } from '../../src/core/validation.ts';
import { FORMATS, QUALITIES, SIZES } from '../../src/core/images-api.ts';

const fraction = numberBetween(0, 1);

const latencySchema = z
  .object({
    /** The request whose P50/P95/P99 are given; others scale by output tokens. */
    reference: z
      .object({ quality: z.enum(QUALITIES), size: z.enum(SIZES) })
      .strict()
      .default({ quality: 'medium', size: '1024x1024' }),
    p50: duration,
    p95: duration,
    p99: duration,
    /** Share of the reference latency that does not grow with output tokens (queueing, decode, upload). */
    fixedShare: fraction.default(0.3),
    /** Each extra image of `n` adds this share of one image's time (1 = strictly serial). */
    perExtraImage: z.number().min(0, { error: 'a number >= 0' }).default(0.5),
    /** Multipliers by output format; OpenAI says jpeg is faster than png. */
    formatFactor: z
      .object({ png: z.number().positive(), jpeg: z.number().positive(), webp: z.number().positive() })
      .strict()
      .default({ png: 1, jpeg: 0.9, webp: 0.95 }),
    min: duration.default(0),
    max: duration.default(600_000),
    /** `stratified` (default) makes short runs show the profile's quantiles; `iid` is plain random draws. */
    sampling: z.enum(['stratified', 'iid']).default('stratified'),
  })
  .strict()
  .refine((l) => l.p50 <= l.p95 && l.p95 <= l.p99, { message: 'quantiles in order: p50 <= p95 <= p99', path: ['p99'] });

const backgroundSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('constant'), utilization: fraction }).strict(),
  z
    .object({
      kind: z.literal('diurnal'),
      mean: fraction,
      amplitude: fraction,
      period: duration.default(86_400_000),
      /** Where in the cycle the run starts; 0 = at the mean, rising. */
      phase: fraction.default(0),
    })
    .strict(),
  z
    .object({ kind: z.literal('spiky'), base: fraction, peak: fraction, every: duration, duration })
    .strict(),
]);

const poolSchema = z
  .object({
    /** GPU slots shared by every account and the background tenants. */
    slots: intAtLeast(1),
    /** Requests that may wait for a slot; beyond it the contention response is sent. */
    queue: intAtLeast(0),
    /** Longest wait for a slot before the contention response (absent: no limit). */
    queueTimeout: duration.optional(),
    /** Service-time multiplier by occupied slots at start, as [occupied, factor] points; linear between. */
    slowdown: z.array(z.tuple([z.number().min(0), z.number().positive()])).min(1).default([[0, 1]]),
    background: backgroundSchema.default({ kind: 'none' }),
    contention: z
      .object({
        status: z.union([z.literal(429), z.literal(503)], { error: 'one of 429, 503' }),
        retryAfter: duration.optional(),
      })
      .strict()
      .default({ status: 503 }),
  })
  .strict();

const tierLimitsSchema = z
  .object({
    rpm: intAtLeast(1).optional(),
    ipm: intAtLeast(1).optional(),
    tpm: intAtLeast(1).optional(),
  })
  .strict();

const limitsSchema = z
  .object({
    /** The window the per-minute limits refill over (token bucket, continuous refill). */
    window: duration.default(60_000),
    /** Tier number → limits; `null` = no access (403). Tiers not listed are no access too. */
    tiers: z.record(z.string().regex(/^\d+$/, { error: 'a tier number' }), tierLimitsSchema.nullable()),
    /** Which limit the `*-requests` headers report for this endpoint. */
    requestsHeader: z.enum(['rpm', 'ipm']).default('ipm'),
    /** Send `retry-after` (seconds), `retry-after-ms`, both, or neither on 429s (OpenAI documents none). */
    retryAfter: z.enum(['none', 'seconds', 'ms', 'both']).default('none'),
    /** The images endpoint has been seen to omit x-ratelimit-* headers. */
    omitHeaders: z.boolean().default(false),
  })
  .strict();

const faultWindow = {
  /** Start, from the run's start (timeline) or from injection (admin API). */
  at: duration.default(0),
  /** How long it lasts (absent: until removed). */
  duration: duration.optional(),
};

export const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('outage'), ...faultWindow, status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(503) }).strict(),
  z.object({ kind: z.literal('error'), ...faultWindow, rate: fraction, status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(500) }).strict(),
  z.object({ kind: z.literal('latency'), ...faultWindow, factor: z.number().positive({ error: 'a number > 0' }) }).strict(),
  z.object({ kind: z.literal('reset'), ...faultWindow, rate: fraction }).strict(),
  z.object({ kind: z.literal('stall'), ...faultWindow, rate: fraction, stallFor: duration.default(600_000) }).strict(),
]);

export const profileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /** The model served; newer gpt-image models share the tier table, so it is configurable. */
    model: z.string().min(1).default('gpt-image-1'),
    aliases: z.array(z.string()).default([]),
    latency: latencySchema,
    pool: poolSchema,
    limits: limitsSchema,
    /** Automatic tier upgrades, counted from an account's first request (the seed's 24–48 h). */
    upgrades: z.array(z.object({ fromTier: intAtLeast(0), toTier: intAtLeast(1), after: duration }).strict()).default([]),
    faults: z.array(faultSchema).default([]),
    /** Largest request body accepted before 413. */
    maxBodyBytes: intAtLeast(1024).default(1_048_576),
  })
  .strict();

export { duration };
export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;
export type Background = Profile['pool']['background'];
export type TierLimits = z.output<typeof tierLimitsSchema>;
export { FORMATS };
