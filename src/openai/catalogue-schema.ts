import { z } from 'zod';

/**
 * The shape of one model's facts in the catalogue. Profiles and gateway configs override
 * facts with the same shape (every field optional), so one schema validates the built-in
 * data and every override, with errors naming field, expectation and value.
 */

export const QUALITY_NAMES = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export const FORMAT_NAMES = ['png', 'jpeg', 'webp', 'gif', 'svg'] as const;
export const ENDPOINT_NAMES = ['generations', 'edits'] as const;
/** Where a figure comes from; `observed`: fitted by `ratelab calibrate` to a trace of your own traffic. */
export const SOURCES = ['documented', 'reported', 'estimated', 'observed'] as const;

const source = z.enum(SOURCES);
const positive = z.number().positive({ error: 'a number > 0' });
const count = z.number().int({ error: 'an integer >= 0' }).min(0, { error: 'an integer >= 0' });
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'a date like 2026-10-23' });
const fixedSize = z.string().regex(/^\d+x\d+$/, { error: 'a size like 1024x1024' });

const statusSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('active') }).strict(),
  z.object({ state: z.literal('retired'), since: date, use: z.string().min(1) }).strict(),
]);

/** Free-form sizes, `WxH`: both sides multiples of `multipleOf`, within the ratio, edge and pixel bounds. */
const freeFormSchema = z
  .object({
    multipleOf: z.number().int().positive(),
    /** Longest side ÷ shortest side at most this (3 = between 1:3 and 3:1). */
    maxRatio: z.number().min(1),
    /** Bounds on the longer and the shorter side (3840x2160 = 3840 long, 2160 short). */
    maxLongEdge: z.number().int().positive(),
    maxShortEdge: z.number().int().positive(),
    minPixels: count,
    maxPixels: z.number().int().positive(),
    /** Above this many pixels OpenAI calls the size experimental. */
    experimentalAbovePixels: z.number().int().positive(),
    source,
  })
  .strict();

const sizesSchema = z
  .object({
    fixed: z.array(fixedSize).min(1),
    /** `auto` accepted; it resolves to `auto`'s size below. */
    auto: z.boolean(),
    autoResolvesTo: fixedSize,
    freeForm: freeFormSchema.optional(),
  })
  .strict();

/** Output tokens per image: OpenAI's table, or `base × (pixels / 1024²)^exponent` × quality factor. */
const tokensSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('table'),
      table: z.partialRecord(z.enum(QUALITY_NAMES), z.record(fixedSize, count)),
      source,
    })
    .strict(),
  z
    .object({
      kind: z.literal('pixels'),
      /** Tokens of one 1024x1024 image at each quality. */
      at1024: z.partialRecord(z.enum(QUALITY_NAMES), positive),
      exponent: z.number().min(0).max(2),
      source,
      /** The figures it was fitted to: `[size, quality, tokens]`, so a test can show the error. */
      calibration: z.array(z.tuple([fixedSize, z.enum(QUALITY_NAMES), positive])).default([]),
    })
    .strict(),
]);

/** Tokens an input image of an edit costs: `base + perTile × tiles` after fitting the image into `fitWithin`. */
const inputImageTokensSchema = z
  .object({
    base: count,
    perTile: count,
    tile: z.number().int().positive(),
    fitWithin: z.number().int().positive(),
    /** Extra tokens per input image with `input_fidelity: high`. */
    highFidelityExtra: count,
    source,
  })
  .strict();

/** USD per image by quality × size, or per million tokens by kind. */
const pricesSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('per-image'), table: z.partialRecord(z.enum(QUALITY_NAMES), z.record(fixedSize, z.number().min(0))), source }).strict(),
  z
    .object({
      kind: z.literal('per-token'),
      textIn: z.number().min(0),
      textInCached: z.number().min(0),
      imageIn: z.number().min(0),
      imageInCached: z.number().min(0),
      imageOut: z.number().min(0),
      source,
    })
    .strict(),
]);

const tierLimitsSchema = z
  .object({ rpm: z.number().int().min(1).optional(), ipm: z.number().int().min(1).optional(), tpm: z.number().int().min(1).optional() })
  .strict();

const tiersSchema = z
  .object({
    /** Tier number → limits; `null` = no access (403). Unlisted tiers have no access either. */
    table: z.record(z.string().regex(/^\d+$/, { error: 'a tier number' }), tierLimitsSchema.nullable()),
    source,
  })
  .strict();

export const modelFactsSchema = z
  .object({
    status: statusSchema,
    endpoints: z.array(z.enum(ENDPOINT_NAMES)).min(1),
    sizes: sizesSchema,
    qualities: z.array(z.enum(QUALITY_NAMES)).min(1),
    formats: z.array(z.enum(FORMAT_NAMES)).min(1),
    /** Formats that need project access (`access.gif`, `access.svg` in a profile). */
    gatedFormats: z.array(z.enum(FORMAT_NAMES)).default([]),
    transparentBackground: z.enum(['yes', 'preview', 'no']),
    /** `input_fidelity` values accepted on edits; empty = the parameter is refused. */
    inputFidelity: z.array(z.enum(['high', 'low'])),
    markup: z.boolean(),
    complexity: z.boolean(),
    maxPartialImages: count.max(3),
    tokens: tokensSchema,
    inputImageTokens: inputImageTokensSchema,
    prices: pricesSchema,
    tiers: tiersSchema,
  })
  .strict();

export const modelEntrySchema = modelFactsSchema.extend({
  /** A dated snapshot names its family: it shares the family's facts and its rate-limit bucket. */
  snapshotOf: z.string().optional(),
  notes: z.string().default(''),
});

/** What a profile or a gateway config may say about a model: any fact, partially. */
export const modelOverrideSchema = z
  .object({
    status: statusSchema.optional(),
    endpoints: modelFactsSchema.shape.endpoints.optional(),
    sizes: sizesSchema.partial().strict().optional(),
    qualities: modelFactsSchema.shape.qualities.optional(),
    formats: modelFactsSchema.shape.formats.optional(),
    gatedFormats: z.array(z.enum(FORMAT_NAMES)).optional(),
    transparentBackground: modelFactsSchema.shape.transparentBackground.optional(),
    inputFidelity: modelFactsSchema.shape.inputFidelity.optional(),
    markup: z.boolean().optional(),
    complexity: z.boolean().optional(),
    maxPartialImages: count.max(3).optional(),
    tokens: tokensSchema.optional(),
    inputImageTokens: inputImageTokensSchema.partial().strict().optional(),
    prices: pricesSchema.optional(),
    tiers: tiersSchema.optional(),
    /** A model the catalogue does not have: the catalogue model whose facts it starts from. */
    like: z.string().optional(),
  })
  .strict();

export type ModelFacts = z.output<typeof modelFactsSchema>;
type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
/** An entry as written in models.ts (`as const` data is welcome). */
export type ModelEntryInput = DeepReadonly<z.input<typeof modelEntrySchema>>;
export type ModelEntry = z.output<typeof modelEntrySchema>;
export type ModelOverride = z.input<typeof modelOverrideSchema>;
export type QualityName = (typeof QUALITY_NAMES)[number];
export type FormatName = (typeof FORMAT_NAMES)[number];
export type Endpoint = (typeof ENDPOINT_NAMES)[number];
export type TierLimits = z.output<typeof tierLimitsSchema>;
export type Source = (typeof SOURCES)[number];
export { tierLimitsSchema };
