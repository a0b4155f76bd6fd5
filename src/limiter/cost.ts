import { estimatePromptTokens, OUTPUT_TOKENS, type Quality, type Size } from '../core/images-api.ts';

/** What one call costs on each budget: requests, images, tokens. */
export interface Cost {
  rpm: number;
  ipm: number;
  tpm: number;
}

export type Dimension = keyof Cost;
export const DIMENSIONS: readonly Dimension[] = ['rpm', 'ipm', 'tpm'];

/** The fields of an images request the cost depends on (as the SDK and the wire name them). */
export interface ImageCostInput {
  prompt?: string;
  n?: number | null;
  quality?: string | null;
  size?: string | null;
}

const QUALITY_OF = (q: string | null | undefined): Quality => (q === 'low' || q === 'high' ? q : 'medium');
const SIZE_OF = (s: string | null | undefined): Size => (s === '1536x1024' || s === '1024x1536' ? s : '1024x1024');

/**
 * Cost estimated before the call: 1 request, n images, and n × output tokens for quality ×
 * size plus prompt tokens. `auto` is priced as medium 1024², what OpenAI mostly picks.
 */
export function imageCost(req: ImageCostInput): Cost {
  const n = req.n ?? 1;
  const tokens = OUTPUT_TOKENS[QUALITY_OF(req.quality)][SIZE_OF(req.size)] * n + estimatePromptTokens(req.prompt ?? '');
  return { rpm: 1, ipm: n, tpm: tokens };
}

export function priceOf(req: ImageCostInput, prices: Record<Quality, Record<Size, number>>): number {
  return prices[QUALITY_OF(req.quality)][SIZE_OF(req.size)] * (req.n ?? 1);
}

export const ONE_REQUEST: Cost = { rpm: 1, ipm: 0, tpm: 0 };
