import { CATALOGUE, type Catalogue, type CatalogueModel } from './catalogue.ts';
import type { QualityName } from './catalogue-schema.ts';
import { checkSize, type Dimensions } from './sizes.ts';
import { estimatePromptTokens, inputImageTokens, outputTokens } from './tokens.ts';

/** What one images call costs on each per-minute limit: requests, images, tokens. */
export interface Cost {
  rpm: number;
  ipm: number;
  tpm: number;
}

export type Dimension = keyof Cost;
export const DIMENSIONS: readonly Dimension[] = ['rpm', 'ipm', 'tpm'];

/**
 * The fields of an images request the cost depends on, as the SDK and the wire name them
 * (an SDK `images.generate`/`images.edit` params object is one), plus `inputImages`: the
 * edit's input images by dimensions when known (a count assumes 1024x1024 each).
 */
export interface ImageCostInput {
  model?: string | null;
  prompt?: string;
  n?: number | null;
  quality?: string | null;
  size?: string | null;
  input_fidelity?: string | null;
  /** An SDK edit's `image` (one upload or an array): counted, 1024x1024 each. */
  image?: unknown;
  inputImages?: number | readonly Dimensions[];
}

const DEFAULT_DIMS: Dimensions = { width: 1024, height: 1024 };
const QUALITIES = new Set<string>(['low', 'medium', 'high', 'xhigh', 'max']);

/** `auto` (or nothing) is priced as medium, what OpenAI mostly picks. */
export const qualityOf = (q: string | null | undefined): QualityName => (q && QUALITIES.has(q) ? (q as QualityName) : 'medium');

/** The size a request resolves to on `model`; anything the model would refuse is priced as its `auto` size. */
export function dimensionsOf(size: string | null | undefined, model: CatalogueModel): Readonly<Dimensions> {
  const checked = checkSize(size ?? 'auto', model.id, model.sizes);
  return 'width' in checked ? checked : checkSize(model.sizes.autoResolvesTo, model.id, model.sizes) as Readonly<Dimensions>;
}

function inputDims(req: ImageCostInput): readonly Dimensions[] {
  const given = req.inputImages;
  if (Array.isArray(given)) return given;
  const count = typeof given === 'number' ? given : Array.isArray(req.image) ? req.image.length : req.image !== undefined && req.image !== null ? 1 : 0;
  return Array.from({ length: count }, () => DEFAULT_DIMS);
}

/** Token counts of a request, split as OpenAI's `usage` splits them. */
export interface TokenEstimate {
  textTokens: number;
  imageInputTokens: number;
  /** All n images. */
  outputTokens: number;
}

export function estimateTokens(req: ImageCostInput, catalogue: Catalogue = CATALOGUE): TokenEstimate {
  const model = catalogue.factsFor(req.model);
  const n = req.n ?? 1;
  const fidelity = req.input_fidelity === 'high' ? 'high' : req.input_fidelity === 'low' ? 'low' : undefined;
  let imageInputTokens = 0;
  for (const dims of inputDims(req)) imageInputTokens += inputImageTokens(model.inputImageTokens, dims, fidelity);
  return {
    textTokens: estimatePromptTokens(req.prompt ?? ''),
    imageInputTokens,
    outputTokens: n * outputTokens(model.tokens, qualityOf(req.quality), dimensionsOf(req.size, model)),
  };
}

/**
 * The one rule both sides of the limit use — the mock charging an account and the limiter
 * reserving before a call: 1 request, n images, and every token the call will bill (output
 * tokens for quality × pixels, prompt tokens, input-image tokens of an edit).
 */
export function imageCost(req: ImageCostInput, catalogue: Catalogue = CATALOGUE): Cost {
  return costOfTokens(estimateTokens(req, catalogue), req.n ?? 1);
}

/** `imageCost` for a request whose tokens are already estimated (the mock needs both). */
export function costOfTokens(t: TokenEstimate, n: number): Cost {
  return { rpm: 1, ipm: n, tpm: t.textTokens + t.imageInputTokens + t.outputTokens };
}

export const ONE_REQUEST: Cost = { rpm: 1, ipm: 0, tpm: 0 };

/** What a validated request costs is read from these of its fields. */
export function costInputOf(image: { model: string; prompt: string; n: number; quality: string; size: string; inputFidelity?: string | undefined; inputImages: readonly Dimensions[] }): ImageCostInput {
  return { model: image.model, prompt: image.prompt, n: image.n, quality: image.quality, size: image.size, input_fidelity: image.inputFidelity ?? null, inputImages: image.inputImages };
}
