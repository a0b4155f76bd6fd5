import { ceilMs, formatGoDuration } from '../../src/core/duration.ts';
import type { Profile, TierLimits } from '../profiles/schema.ts';
import { DIMENSIONS, type Cost, type Dimension } from '../../src/openai/cost.ts';
import { TokenBucket } from './bucket.ts';

export { DIMENSIONS, type Cost, type Dimension };

export const DIMENSION_TEXT: Record<Dimension, string> = {
  rpm: 'requests per min (RPM)',
  ipm: 'images per min (IPM)',
  tpm: 'tokens per min (TPM)',
};

export type Admission =
  | { ok: true }
  | { ok: false; tooLarge: false; dimension: Dimension; limit: number; used: number; requested: number; waitMs: number }
  | { ok: false; tooLarge: true; dimension: Dimension; limit: number; requested: number };

/**
 * One account's per-minute limits. A request is admitted only if every dimension has room
 * for its whole cost, and then charged on all of them at once; a refused request is charged
 * nothing. Admitted requests stay charged even if they fail later (OpenAI: failed requests
 * count toward per-minute limits).
 */
export class AccountLimits {
  private buckets: Partial<Record<Dimension, TokenBucket>> = {};

  constructor(
    private readonly profileLimits: Profile['limits'],
    tier: TierLimits,
    now: number,
  ) {
    this.setTier(tier, now);
  }

  setTier(tier: TierLimits, now: number): void {
    const next: Partial<Record<Dimension, TokenBucket>> = {};
    for (const dim of DIMENSIONS) {
      const capacity = tier[dim];
      if (capacity === undefined) continue;
      const old = this.buckets[dim];
      next[dim] = old ? old.resized(capacity, now) : new TokenBucket(capacity, this.profileLimits.window, now);
    }
    this.buckets = next;
  }

  admit(cost: Cost, now: number): Admission {
    let worst: Extract<Admission, { tooLarge: false }> | undefined;
    for (const dim of DIMENSIONS) {
      const bucket = this.buckets[dim];
      if (!bucket) continue;
      if (cost[dim] > bucket.capacity) return { ok: false, tooLarge: true, dimension: dim, limit: bucket.capacity, requested: cost[dim] };
      const waitMs = bucket.waitFor(cost[dim], now);
      if (waitMs > 0 && (worst === undefined || waitMs > worst.waitMs)) {
        const used = Math.ceil(bucket.capacity - bucket.available(now));
        worst = { ok: false, tooLarge: false, dimension: dim, limit: bucket.capacity, used, requested: cost[dim], waitMs };
      }
    }
    if (worst) return worst;
    for (const dim of DIMENSIONS) this.buckets[dim]?.take(cost[dim], now);
    return { ok: true };
  }

  /** OpenAI's x-ratelimit-* headers (reset as a Go duration, rounded up to whole ms). */
  headers(now: number): Record<string, string> {
    const out: Record<string, string> = {};
    this.writeHeaders(out, now);
    return out;
  }

  writeHeaders(out: Record<string, string>, now: number): void {
    const preferred = this.profileLimits.requestsHeader;
    const requests = this.buckets[preferred] ?? this.buckets[preferred === 'ipm' ? 'rpm' : 'ipm'];
    const tokens = this.buckets.tpm;
    if (requests) writeBucketHeaders(out, 'requests', requests, now);
    if (tokens) writeBucketHeaders(out, 'tokens', tokens, now);
  }

  remaining(now: number): Partial<Record<Dimension, number>> {
    const out: Partial<Record<Dimension, number>> = {};
    for (const dim of DIMENSIONS) {
      const bucket = this.buckets[dim];
      if (bucket) out[dim] = Math.floor(bucket.available(now));
    }
    return out;
  }
}

function writeBucketHeaders(out: Record<string, string>, kind: 'requests' | 'tokens', bucket: TokenBucket, now: number): void {
  const untilFull = bucket.untilFull(now);
  out[`x-ratelimit-limit-${kind}`] = String(bucket.capacity);
  out[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, Math.floor(bucket.available(now))));
  out[`x-ratelimit-reset-${kind}`] = untilFull <= 0 ? '0s' : formatGoDuration(ceilMs(untilFull));
}
