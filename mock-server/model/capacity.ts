import { imageCost } from '../../src/openai/cost.ts';
import type { Catalogue } from '../../src/openai/catalogue.ts';
import type { ImageRequest } from '../../src/openai/request.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Profile } from '../profiles/schema.ts';
import { limitPlan } from './accounts.ts';
import { backgroundUtilization } from './background.ts';
import { latencyRequestOf, referenceTokens } from './latency-request.ts';
import { LatencyModel } from './latency.ts';

export type CapacityBound = 'gpu' | 'rpm' | 'ipm' | 'tpm';

export interface Capacity {
  /** Images per minute: the smallest bound. */
  imagesPerMinute: number;
  bound: CapacityBound;
  /** Each bound in images per minute (absent: the tier sets no such limit). */
  bounds: Partial<Record<CapacityBound, number>>;
  /** Mean service time of the request (ms), before contention slowdown. */
  meanServiceMs: number;
}

/**
 * The most an account can deliver, in images per minute, sending requests like `request`:
 * the GPU slots other tenants leave free (background load averaged over `windowMs`) ÷ the mean
 * service time, capped by the tier's RPM, IPM and TPM for the request's model. It ignores
 * contention slowdown, so it is an upper bound: the "theoretical capacity" that goodput is
 * compared with.
 */
export function theoreticalCapacity(profile: Profile, catalogue: Catalogue, tier: number, request: ImageRequest, windowMs = 600_000): Capacity | undefined {
  const model = catalogue.factsFor(request.model);
  const limits = limitPlan(profile, catalogue.factsFor(catalogue.defaultModel)).tiersOf(model)[String(tier)];
  if (!limits) return undefined;
  const latency = new LatencyModel(profile.latency, createRng(0), referenceTokens(profile, catalogue));
  const meanServiceMs = latency.mean(latencyRequestOf(request, catalogue));
  const steps = 1000;
  let busy = 0;
  for (let i = 0; i < steps; i++) busy += backgroundUtilization(profile.pool.background, ((i + 0.5) / steps) * windowMs);
  const freeSlots = profile.pool.slots * (1 - busy / steps);
  const cost = imageCost(request, catalogue);
  const perMinute = 60_000 / profile.limits.window;
  const bounds: Partial<Record<CapacityBound, number>> = {
    gpu: meanServiceMs > 0 ? ((freeSlots * 60_000) / meanServiceMs) * request.n : Infinity,
  };
  if (limits.rpm !== undefined) bounds.rpm = limits.rpm * perMinute * request.n;
  if (limits.ipm !== undefined) bounds.ipm = limits.ipm * perMinute;
  if (limits.tpm !== undefined) bounds.tpm = ((limits.tpm * perMinute) / cost.tpm) * request.n;
  const [bound, imagesPerMinute] = Object.entries(bounds).reduce((a, b) => (b[1] < a[1] ? b : a)) as [CapacityBound, number];
  return { imagesPerMinute, bound, bounds, meanServiceMs };
}
