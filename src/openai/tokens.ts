import type { ModelFacts, QualityName } from './catalogue-schema.ts';
import type { Dimensions } from './sizes.ts';

/** OpenAI bills prompt text by tokens; ~4 characters a token is its documented rule of thumb. */
export function estimatePromptTokens(prompt: string): number {
  return Math.max(1, Math.ceil(prompt.length / 4));
}

const REFERENCE_PIXELS = 1024 * 1024;
/** Where a table has no entry for a quality (xhigh, max on a table model), the nearest it has. */
const FALLBACK: Record<QualityName, QualityName[]> = {
  low: ['low', 'medium'],
  medium: ['medium'],
  high: ['high'],
  xhigh: ['xhigh', 'high'],
  max: ['max', 'xhigh', 'high'],
};

/** Output tokens of one image of `quality` at `dims` (before n). */
export function outputTokens(tokens: ModelFacts['tokens'], quality: QualityName, dims: Dimensions): number {
  const pixels = dims.width * dims.height;
  if (tokens.kind === 'pixels') {
    const at = FALLBACK[quality].map((q) => tokens.at1024[q]).find((v) => v !== undefined) ?? tokens.at1024.high ?? 0;
    return Math.round(at * (pixels / REFERENCE_PIXELS) ** tokens.exponent);
  }
  const row = FALLBACK[quality].map((q) => tokens.table[q]).find((r) => r !== undefined) ?? tokens.table.high ?? {};
  const exact = row[`${dims.width}x${dims.height}`];
  if (exact !== undefined) return exact;
  // A size the table lacks (an override's free-form size): the 1024² figure grown by pixels.
  return Math.round((row['1024x1024'] ?? 0) * (pixels / REFERENCE_PIXELS));
}

/** Tokens one input image of an edit costs (counted in `usage.input_tokens_details.image_tokens` and TPM). */
export function inputImageTokens(facts: ModelFacts['inputImageTokens'], dims: Dimensions, fidelity: 'high' | 'low' | undefined): number {
  const scale = Math.min(1, facts.fitWithin / Math.max(dims.width, dims.height, 1));
  const tiles = Math.ceil((dims.width * scale) / facts.tile) * Math.ceil((dims.height * scale) / facts.tile);
  return facts.base + facts.perTile * tiles + (fidelity === 'high' ? facts.highFidelityExtra : 0);
}
