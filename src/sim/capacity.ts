import { imageRequestBody } from '../../loadtests/lib/answers.ts';
import { theoreticalCapacity, type Capacity } from '../../mock-server/model/capacity.ts';
import type { Profile } from '../../mock-server/profiles/schema.ts';
import { validateImageRequest } from '../core/images-request.ts';

/**
 * The theoretical capacity (images/min) of an account on `profile` at `tier` for the load
 * tests' requests: what the scenarios scale their arrival rates by and what goodput is
 * compared with. Undefined when the tier has no access.
 */
export function loadTestCapacity(profile: Profile, tier: number): Capacity | undefined {
  // The load tests name gpt-image-1, as the sim's requests do.
  const request = validateImageRequest('application/json', new TextEncoder().encode(imageRequestBody(1, 0)), ['gpt-image-1']);
  const capacity = theoreticalCapacity(profile, tier, request);
  // A tenth of an image per minute is as precise as anything that reads it (scenario rates, reports).
  return capacity && { ...capacity, imagesPerMinute: Math.round(capacity.imagesPerMinute * 10) / 10 };
}
