/**
 * GCRA (generic cell rate algorithm, as in redis-cell): one "theoretical arrival time" per
 * budget. `emission` = window / limit is the time one unit costs; `tolerance` = emission ×
 * burst is how far ahead of now the TAT may run. A request of cost c is admitted iff
 * max(TAT, now) + emission·c − tolerance ≤ now, and then TAT advances by emission·c.
 *
 * Burst behaviour: after an idle period, up to `burst` units pass at once; under sustained
 * load the rate is exactly limit per window. It is a token bucket of capacity `burst`
 * refilled at limit/window, stored as one number (which is what makes it cheap in Redis).
 * A weighted cost larger than the burst can never pass; `admit` says so rather than wait.
 */
export interface GcraState {
  tat: number;
}

export interface GcraParams {
  /** ms one unit costs: window / limit. */
  emission: number;
  /** ms the TAT may run ahead of now: emission × burst. */
  tolerance: number;
}

export function gcraParams(limit: number, windowMs: number, burst: number): GcraParams {
  const emission = windowMs / limit;
  return { emission, tolerance: emission * burst };
}

/** ms until `cost` units fit (0 = now; Infinity = never, the cost exceeds the burst). */
export function gcraWait(state: GcraState, p: GcraParams, cost: number, now: number): number {
  if (cost * p.emission > p.tolerance + 1e-9) return Infinity;
  const next = Math.max(state.tat, now) + cost * p.emission;
  const wait = next - p.tolerance - now;
  return wait <= 1e-9 ? 0 : wait;
}

/**
 * ms until `cost` units would have passed at the budget's rate, however large the cost (a
 * queue's total, not one task's): an estimate of when the last of them could start.
 */
export function gcraDrain(state: GcraState, p: GcraParams, cost: number, now: number): number {
  return Math.max(0, Math.max(state.tat, now) + cost * p.emission - p.tolerance - now);
}

export function gcraTake(state: GcraState, p: GcraParams, cost: number, now: number): void {
  state.tat = Math.max(state.tat, now) + cost * p.emission;
}

/** Units that would pass right now. */
export function gcraAvailable(state: GcraState, p: GcraParams, now: number): number {
  return Math.max(0, (p.tolerance - Math.max(0, state.tat - now)) / p.emission);
}

/** Lowers what is available to `remaining` (never raises it): the provider knows best. */
export function gcraClampTo(state: GcraState, p: GcraParams, remaining: number, now: number): boolean {
  const tat = now + p.tolerance - remaining * p.emission;
  if (tat <= state.tat) return false;
  state.tat = tat;
  return true;
}
