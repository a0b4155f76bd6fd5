import type { Fault, Profile } from '../profiles/schema.ts';

/**
 * The profile with every duration multiplied by the time scale, so the rest of the model
 * works in clock milliseconds only. This is the single point where the mock applies the
 * time-scale knob; anything derived from these values (headers, retry hints) is therefore
 * already in the client's time.
 */
export function scaleFault(fault: Fault, s: number): Fault {
  const scaled = { ...fault, at: fault.at * s, duration: fault.duration === undefined ? undefined : fault.duration * s };
  if (scaled.kind === 'stall') scaled.stallFor *= s;
  return scaled;
}

export function scaleProfile(profile: Profile, s: number): Profile {
  const { latency, pool, limits } = profile;
  const background = { ...pool.background };
  if (background.kind === 'diurnal') background.period *= s;
  if (background.kind === 'spiky') {
    background.every *= s;
    background.duration *= s;
  }
  return {
    ...profile,
    latency: { ...latency, p50: latency.p50 * s, p95: latency.p95 * s, p99: latency.p99 * s, min: latency.min * s, max: latency.max * s },
    pool: {
      ...pool,
      queueTimeout: pool.queueTimeout === undefined ? undefined : pool.queueTimeout * s,
      background,
      contention: { ...pool.contention, retryAfter: pool.contention.retryAfter === undefined ? undefined : pool.contention.retryAfter * s },
    },
    limits: { ...limits, window: limits.window * s },
    streaming: { ...profile.streaming, minGap: profile.streaming.minGap * s },
    upgrades: profile.upgrades.map((u) => ({ ...u, after: u.after * s })),
    faults: profile.faults.map((f) => scaleFault(f, s)),
  };
}
