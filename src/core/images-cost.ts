import { estimatePromptTokens, OUTPUT_TOKENS, type Quality, type Size } from './images-api.ts';

/** What one images call costs on each per-minute limit: requests, images, tokens. */
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

/** `auto` (or nothing) is priced as medium 1024², what OpenAI mostly picks. */
export const qualityOf = (q: string | null | undefined): Quality => (q === 'low' || q === 'high' ? q : 'medium');
export const sizeOf = (s: string | null | undefined): Size => (s === '1536x1024' || s === '1024x1536' ? s : '1024x1024');

/**
 * The one rule both sides of the limit use — the mock charging an account and the limiter
 * reserving before a call: 1 request, n images, and n × output tokens for quality × size
 * plus prompt tokens.
 */
export function imageCost(req: ImageCostInput): Cost {
  const n = req.n ?? 1;
  const tokens = OUTPUT_TOKENS[qualityOf(req.quality)][sizeOf(req.size)] * n + estimatePromptTokens(req.prompt ?? '');
  return { rpm: 1, ipm: n, tpm: tokens };
}

export const ONE_REQUEST: Cost = { rpm: 1, ipm: 0, tpm: 0 };
