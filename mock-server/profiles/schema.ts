import { z } from 'zod';
import { duration, intAtLeast, numberBetween } from '../../src/core/validation.ts';
import { modelOverrideSchema, QUALITY_NAMES, tierLimitsSchema } from '../../src/openai/catalogue-schema.ts';
import { OPENAI_UPLOAD_LIMITS } from '../../src/openai/edit-inputs.ts';

const fraction = numberBetween(0, 1);

const latencySchema = z
  .object({
    /** The request whose P50/P95/P99 are given; others scale by output tokens. Default model: the profile's `defaultModel`. */
    reference: z
      .object({ model: z.string().optional(), quality: z.enum(QUALITY_NAMES), size: z.string().regex(/^\d+x\d+$/, { error: 'a size like 1024x1024' }) })
      .strict()
      .default({ quality: 'medium', size: '1024x1024' }),
    p50: duration,
    p95: duration,
    p99: duration,
    /** Share of the reference latency that does not grow with output tokens (queueing, decode, upload). */
    fixedShare: fraction.default(0.3),
    /** Each extra image of `n` adds this share of one image's time (1 = strictly serial). */
    perExtraImage: z.number().min(0, { error: 'a number >= 0' }).default(0.5),
    /** Each input image of an edit adds this share of the reference time (reading references is work too; an estimate). */
    perInputImage: z.number().min(0, { error: 'a number >= 0' }).default(0.1),
    /** Multipliers by output format; OpenAI says jpeg is faster than png. */
    formatFactor: z
      .object({
        png: z.number().positive().default(1),
        jpeg: z.number().positive().default(0.9),
        webp: z.number().positive().default(0.95),
        /** gif renders frames, svg authors vectors over a reference image: both slower (estimates). */
        gif: z.number().positive().default(1.5),
        svg: z.number().positive().default(1.3),
      })
      .strict()
      .prefault({}),
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

const limitsSchema = z
  .object({
    /** The window the per-minute limits refill over (token bucket, continuous refill). */
    window: duration.default(60_000),
    /**
     * Tier number → limits for every model; `null` = no access (403), unlisted tiers too.
     * Absent: each model's tier table from the catalogue.
     */
    tiers: z.record(z.string().regex(/^\d+$/, { error: 'a tier number' }), tierLimitsSchema.nullable()).optional(),
    /**
     * Whether image models share one bucket per account (`shared`, the default model's
     * limits) or each model family has its own (`per-model`). OpenAI documents neither.
     */
    bucket: z.enum(['per-model', 'shared']).default('per-model'),
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
  z.object({ kind: z.literal('moderation'), ...faultWindow, rate: fraction, stage: z.enum(['input', 'output']).default('input') }).strict(),
]);

const streamingSchema = z
  .object({
    /** Partial images are spread evenly between these shares of the generation's time. */
    firstPartialAt: fraction.default(0.3),
    lastPartialAt: fraction.default(0.85),
    /** A partial closer than this to the final image (or to the previous partial) is not sent: a fast image arrives before all its partials. */
    minGap: duration.default(1_000),
  })
  .strict()
  .refine((s) => s.firstPartialAt <= s.lastPartialAt, { message: 'firstPartialAt <= lastPartialAt', path: ['lastPartialAt'] });

const moderationSchema = z
  .object({
    /** Share of requests blocked by moderation (OpenAI: 400 moderation_blocked). */
    rate: fraction.default(0),
    /** Of those, the share blocked at the output stage: after the generation's time, tokens charged. */
    outputShare: fraction.default(0.5),
  })
  .strict();

const uploadsSchema = z
  .object({
    maxImages: intAtLeast(1).default(OPENAI_UPLOAD_LIMITS.maxImages),
    maxImageBytes: intAtLeast(1).default(OPENAI_UPLOAD_LIMITS.maxImageBytes),
    maxMaskBytes: intAtLeast(1).default(OPENAI_UPLOAD_LIMITS.maxMaskBytes),
  })
  .strict();

export const profileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /** Catalogue models this profile answers (`all`: every model, retired ones answered as retired). */
    serve: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
    /** What a request without `model` gets. */
    defaultModel: z.string().min(1).default('gpt-image-1.5'),
    /** Catalogue facts this profile changes, by model id (any fact; `like:` starts a new model from one). */
    models: z.record(z.string().min(1), modelOverrideSchema).default({}),
    /** Project access to the formats behind previews (gif, svg): without it they are refused with 403. */
    access: z.object({ gif: z.boolean().default(false), svg: z.boolean().default(false) }).strict().prefault({}),
    streaming: streamingSchema.prefault({}),
    moderation: moderationSchema.prefault({}),
    uploads: uploadsSchema.default(OPENAI_UPLOAD_LIMITS),
    latency: latencySchema,
    pool: poolSchema,
    limits: limitsSchema,
    /** Automatic tier upgrades, counted from an account's first request (the seed's 24–48 h). */
    upgrades: z.array(z.object({ fromTier: intAtLeast(0), toTier: intAtLeast(1), after: duration }).strict()).default([]),
    faults: z.array(faultSchema).default([]),
    /** Largest JSON body accepted before 413 (JSON edits carry data URLs, up to 20 MB each). */
    maxBodyBytes: intAtLeast(1024).default(64 * 1024 * 1024),
  })
  .strict();

export { duration };
export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;
export type Background = Profile['pool']['background'];
export type TierLimits = z.output<typeof tierLimitsSchema>;
