/** The limiter prices tasks with the catalogue's rules (src/openai), as the mock charges accounts. */
export { DIMENSIONS, imageCost, ONE_REQUEST, type Cost, type Dimension, type ImageCostInput } from '../openai/cost.ts';
export { priceOf } from '../openai/prices.ts';
