import { imageRequestFields } from '../../loadtests/lib/answers.ts';
import { theoreticalCapacity, type Capacity } from '../../mock-server/model/capacity.ts';
import { catalogueOf } from '../../mock-server/profiles/index.ts';
import type { Profile } from '../../mock-server/profiles/schema.ts';
import { validateImageFields } from '../openai/request.ts';

/** Per profile (read-only) and tier: the tuner and compare ask it of one profile for every simulation. */
const capacities = new WeakMap<Profile, Map<number, Capacity | undefined>>();

/**
 * The theoretical capacity (images/min) of an account on `profile` at `tier` for the load
 * tests' requests (the profile's default model): what the scenarios scale their arrival
 * rates by and what goodput is compared with. Undefined when the tier has no access.
 */
export function loadTestCapacity(profile: Profile, tier: number): Capacity | undefined {
  let byTier = capacities.get(profile);
  if (!byTier) capacities.set(profile, (byTier = new Map()));
  if (!byTier.has(tier)) {
    const capacity = computeCapacity(profile, tier);
    // Shared by every caller from now on: frozen, so none can change it under another.
    if (capacity) {
      for (const value of Object.values(capacity)) if (typeof value === 'object' && value !== null) Object.freeze(value);
      Object.freeze(capacity);
    }
    byTier.set(tier, capacity);
  }
  return byTier.get(tier);
}

function computeCapacity(profile: Profile, tier: number): Capacity | undefined {
  const catalogue = catalogueOf(profile);
  const request = validateImageFields(imageRequestFields(1, 0, profile.defaultModel), { catalogue, endpoint: 'generations' });
  const capacity = theoreticalCapacity(profile, catalogue, tier, request);
  // A tenth of an image per minute is as precise as anything that reads it (scenario rates, reports).
  return capacity && { ...capacity, imagesPerMinute: Math.round(capacity.imagesPerMinute * 10) / 10 };
}

/** The per-minute limits of an account at `tier` for the load tests' model (undefined: no access). */
export function loadTestLimits(profile: Profile, tier: number): { rpm?: number; ipm?: number; tpm?: number } | undefined {
  const catalogue = catalogueOf(profile);
  const model = catalogue.factsFor(profile.defaultModel);
  return (profile.limits.tiers ?? model.tiers.table)[String(tier)] ?? undefined;
}

/** The tiers `profile` has accounts for (with `access`: only those that may use the load tests' model), lowest first. */
export function profileTiers(profile: Profile, access: boolean): number[] {
  const model = catalogueOf(profile).factsFor(profile.defaultModel);
  const table = profile.limits.tiers ?? model.tiers.table;
  return Object.entries(table)
    .filter(([, limits]) => !access || limits)
    .map(([tier]) => Number(tier))
    .sort((a, b) => a - b);
}

/**
 * Refuses a tier the profile has no account for (with `access`: none that may use the load
 * tests' model), naming those it has and the nearest.
 */
export function checkTier(profile: Profile, tier: number, access: boolean, field = '--tier'): void {
  const tiers = profileTiers(profile, access);
  if (tiers.includes(tier)) return;
  const nearest = tiers.reduce((best, t) => (Math.abs(t - tier) < Math.abs(best - tier) ? t : best), tiers[0]!);
  const what = access ? `a tier with access to ${profile.defaultModel} in profile \`${profile.name}\`` : `a tier of profile \`${profile.name}\``;
  throw new RangeError(`Expected \`${field}\` to be ${what} (${tiers.join(', ')}), got \`${tier}\` (number). Try ${field} ${nearest}.`);
}
