import type { Catalogue } from '../../src/openai/catalogue.ts';
import { qualityOf } from '../../src/openai/cost.ts';
import type { ImageRequest } from '../../src/openai/request.ts';
import { parseWxH } from '../../src/openai/sizes.ts';
import { outputTokens } from '../../src/openai/tokens.ts';
import type { Profile } from '../profiles/schema.ts';
import type { LatencyRequest } from './latency.ts';

/** What the latency model reads of a request: its output tokens per image, format, n and input images. */
export function latencyRequestOf(image: ImageRequest, catalogue: Catalogue): LatencyRequest {
  const model = catalogue.factsFor(image.model);
  return {
    tokens: outputTokens(model.tokens, image.quality, { width: image.width, height: image.height }),
    format: image.format,
    n: image.n,
    inputImages: image.inputImages.length,
  };
}

/** Output tokens of the profile's reference request, whose P50/P95/P99 the profile gives. */
export function referenceTokens(profile: Profile, catalogue: Catalogue): number {
  const { model, quality, size } = profile.latency.reference;
  const dims = parseWxH(size) ?? { width: 1024, height: 1024 };
  return outputTokens(catalogue.factsFor(model ?? catalogue.defaultModel).tokens, qualityOf(quality), dims);
}
