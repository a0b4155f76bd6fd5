import { CATALOGUE, type Catalogue } from './catalogue.ts';
import { dimensionsOf, estimateTokens, qualityOf, type ImageCostInput } from './cost.ts';

/**
 * What a request costs in USD at the catalogue's list prices: per image by quality × size
 * for models priced that way (gpt-image-1), otherwise per token (text in, image in, image
 * out). Cached-input discounts are not assumed: a reservation should not undershoot.
 */
export function priceOf(req: ImageCostInput, catalogue: Catalogue = CATALOGUE): number {
  const model = catalogue.factsFor(req.model);
  const prices = model.prices;
  if (prices.kind === 'per-image') {
    const { width, height } = dimensionsOf(req.size, model);
    const q = qualityOf(req.quality);
    const row = prices.table[q] ?? prices.table.high ?? {};
    const perImage = row[`${width}x${height}`] ?? row['1024x1024'] ?? 0;
    return perImage * (req.n ?? 1);
  }
  const t = estimateTokens(req, catalogue);
  return (t.textTokens * prices.textIn + t.imageInputTokens * prices.imageIn + t.outputTokens * prices.imageOut) / 1_000_000;
}
