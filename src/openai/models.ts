import type { ModelEntryInput } from './catalogue-schema.ts';

/**
 * OpenAI's image models as data (../shared/REFERENCE.md §1: SDK 7.59's `images.d.ts` and
 * the OpenAPI spec of August 2026). Adding a model, or retiring one, is an entry here and
 * a test — never code. Every number says where it comes from: `documented` (OpenAI's
 * docs or model pages), `reported` (community figures, unconfirmed) or `estimated` (ours:
 * borrowed from the nearest documented model, to be overridden by a profile or fitted to
 * a trace).
 */

const STANDARD_SIZES = ['1024x1024', '1536x1024', '1024x1536'];

const FIXED = { fixed: STANDARD_SIZES, auto: true, autoResolvesTo: '1024x1024' };

/** gpt-image-2 and the 2.5 models: any WxH within these bounds (SDK 7 `size` doc). */
const FREE_FORM = {
  ...FIXED,
  freeForm: {
    multipleOf: 16,
    maxRatio: 3,
    maxLongEdge: 3840,
    maxShortEdge: 2160,
    // 655 360–8 294 400 is quoted second-hand (REFERENCE.md §1); 8 294 400 = 3840×2160.
    minPixels: 655_360,
    maxPixels: 8_294_400,
    experimentalAbovePixels: 2560 * 1440,
    source: 'reported',
  },
} as const;

/** gpt-image-1's documented output tokens per image (image-generation guide). */
const GPT_IMAGE_1_TOKENS = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};

/**
 * gpt-image-2's tokens as a function of pixels, anchored on the community figures at 1024²
 * (200 low / 1 767 medium / 7 024 high, exact) with the exponent fitted by least squares to
 * the other two (3840×2160 high 13 342 → 12 440, −7 %; 1536×1024 high 5 488 → 7 860, +43 %:
 * that figure is below 1024²'s, so no function growing with pixels fits it). xhigh and max
 * are ours: 1.5× and 2× high.
 */
const GPT_IMAGE_2_TOKENS = {
  kind: 'pixels',
  at1024: { low: 200, medium: 1767, high: 7024, xhigh: 10_536, max: 14_048 },
  exponent: 0.2764,
  calibration: [
    ['1024x1024', 'low', 200],
    ['1024x1024', 'medium', 1767],
    ['1024x1024', 'high', 7024],
    ['1536x1024', 'high', 5488],
    ['3840x2160', 'high', 13_342],
  ],
} as const;

/** Input images of an edit: vision-style tiles (ours; OpenAI documents no table for image models). */
const INPUT_IMAGE_TOKENS = { base: 65, perTile: 129, tile: 512, fitWithin: 2048, highFidelityExtra: 4096, source: 'estimated' } as const;

/** gpt-image-2 and later (model pages): USD per million tokens. */
const PER_TOKEN_2 = { kind: 'per-token', textIn: 5, textInCached: 1.25, imageIn: 8, imageInCached: 2, imageOut: 30 } as const;

/** The published tier table (model pages of gpt-image-1, 1.5 and 2.5-flare, identical). */
const TIER_TABLE = {
  '0': null,
  '1': { ipm: 5, tpm: 100_000 },
  '2': { ipm: 20, tpm: 250_000 },
  '3': { ipm: 50, tpm: 800_000 },
  '4': { ipm: 150, tpm: 3_000_000 },
  '5': { ipm: 250, tpm: 8_000_000 },
};

const GPT_IMAGE = {
  status: { state: 'active' },
  endpoints: ['generations', 'edits'],
  sizes: FIXED,
  qualities: ['low', 'medium', 'high'],
  formats: ['png', 'jpeg', 'webp'],
  gatedFormats: [],
  transparentBackground: 'yes',
  inputFidelity: ['high', 'low'],
  markup: false,
  complexity: true,
  maxPartialImages: 3,
  inputImageTokens: INPUT_IMAGE_TOKENS,
} as const;

/** Facts of the 2 and 2.5 generation: free-form sizes, gif and svg behind project access. */
const GPT_IMAGE_2_FAMILY = {
  ...GPT_IMAGE,
  sizes: FREE_FORM,
  formats: ['png', 'jpeg', 'webp', 'gif', 'svg'],
  gatedFormats: ['gif', 'svg'],
  tokens: { ...GPT_IMAGE_2_TOKENS, source: 'estimated' },
  prices: { ...PER_TOKEN_2, source: 'estimated' },
  tiers: { table: TIER_TABLE, source: 'estimated' },
} as const;

const RETIRED_DALLE = {
  ...GPT_IMAGE,
  status: { state: 'retired', since: '2026-05-12', use: 'a GPT image model' },
  tokens: { kind: 'table', table: GPT_IMAGE_1_TOKENS, source: 'estimated' },
  prices: { ...PER_TOKEN_2, source: 'estimated' },
  tiers: { table: TIER_TABLE, source: 'estimated' },
} as const;

export const MODELS: Record<string, ModelEntryInput> = {
  'gpt-image-1': {
    ...GPT_IMAGE,
    status: { state: 'retired', since: '2026-10-23', use: 'gpt-image-2.5-sunburst or gpt-image-2.5-flare' },
    tokens: { kind: 'table', table: GPT_IMAGE_1_TOKENS, source: 'documented' },
    prices: {
      kind: 'per-image',
      table: {
        low: { '1024x1024': 0.011, '1024x1536': 0.016, '1536x1024': 0.016 },
        medium: { '1024x1024': 0.042, '1024x1536': 0.063, '1536x1024': 0.063 },
        high: { '1024x1024': 0.167, '1024x1536': 0.25, '1536x1024': 0.25 },
      },
      source: 'documented',
    },
    tiers: { table: TIER_TABLE, source: 'documented' },
    notes: 'Shut down on 2026-10-23. The `article` profile serves it as active: the seed scenario is about it.',
  },
  'gpt-image-1-mini': {
    ...GPT_IMAGE,
    inputFidelity: ['low'],
    tokens: { kind: 'table', table: GPT_IMAGE_1_TOKENS, source: 'estimated' },
    prices: { ...PER_TOKEN_2, source: 'estimated' },
    tiers: { table: TIER_TABLE, source: 'estimated' },
    notes: 'Tokens are gpt-image-1\'s table and prices gpt-image-2\'s: OpenAI publishes neither for it here.',
  },
  'gpt-image-1.5': {
    ...GPT_IMAGE,
    tokens: { kind: 'table', table: GPT_IMAGE_1_TOKENS, source: 'estimated' },
    prices: { ...PER_TOKEN_2, source: 'estimated' },
    tiers: { table: TIER_TABLE, source: 'documented' },
  },
  'gpt-image-2': {
    ...GPT_IMAGE_2_FAMILY,
    transparentBackground: 'preview',
    // SDK 7: "For gpt-image-2, omit this parameter."
    inputFidelity: [],
    tokens: { ...GPT_IMAGE_2_TOKENS, source: 'reported' },
    prices: { ...PER_TOKEN_2, source: 'documented' },
  },
  'gpt-image-2-2026-04-21': { ...GPT_IMAGE_2_FAMILY, transparentBackground: 'preview', inputFidelity: [], snapshotOf: 'gpt-image-2' },
  'gpt-image-2.5-sunburst': { ...GPT_IMAGE_2_FAMILY, qualities: ['low', 'medium', 'high', 'xhigh', 'max'], markup: true },
  'gpt-image-2.5-sunburst-2026-09-08': { ...GPT_IMAGE_2_FAMILY, qualities: ['low', 'medium', 'high', 'xhigh', 'max'], markup: true, snapshotOf: 'gpt-image-2.5-sunburst' },
  'gpt-image-2.5-flare': {
    ...GPT_IMAGE_2_FAMILY,
    qualities: ['low', 'medium', 'high', 'xhigh', 'max'],
    markup: true,
    tiers: { table: TIER_TABLE, source: 'documented' },
  },
  'gpt-image-2.5-flare-2026-09-08': { ...GPT_IMAGE_2_FAMILY, qualities: ['low', 'medium', 'high', 'xhigh', 'max'], markup: true, snapshotOf: 'gpt-image-2.5-flare' },
  // The SDK names no free-form sizes, xhigh/max or markup for 2.6.
  'gpt-image-2.6-sunburst': { ...GPT_IMAGE_2_FAMILY, sizes: FIXED, formats: ['png', 'jpeg', 'webp'], gatedFormats: [] },
  'gpt-image-2.6-flare': { ...GPT_IMAGE_2_FAMILY, sizes: FIXED, formats: ['png', 'jpeg', 'webp'], gatedFormats: [] },
  'chatgpt-image-latest': {
    ...GPT_IMAGE,
    tokens: { kind: 'table', table: GPT_IMAGE_1_TOKENS, source: 'estimated' },
    prices: { ...PER_TOKEN_2, source: 'estimated' },
    tiers: { table: TIER_TABLE, source: 'estimated' },
  },
  'dall-e-2': RETIRED_DALLE,
  'dall-e-3': RETIRED_DALLE,
};

/** What a request without `model` gets (the spec's default for edits; the SDK asks for a model explicitly). */
export const DEFAULT_MODEL = 'gpt-image-1.5';
