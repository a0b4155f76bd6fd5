import type { Quality, Size } from '../core/images-api.ts';
import { qualityOf, sizeOf, type ImageCostInput } from '../core/images-cost.ts';

export { DIMENSIONS, imageCost, ONE_REQUEST, type Cost, type Dimension, type ImageCostInput } from '../core/images-cost.ts';

export function priceOf(req: ImageCostInput, prices: Record<Quality, Record<Size, number>>): number {
  return prices[qualityOf(req.quality)][sizeOf(req.size)] * (req.n ?? 1);
}
