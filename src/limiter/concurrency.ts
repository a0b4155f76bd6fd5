import type { LimiterConfig } from './config.ts';

interface LatencyTrack {
  short: number;
  long: number;
  samples: number;
}

/** How many attempts may run at once; one algorithm per class (as Netflix's concurrency-limits keeps them). */
export interface ConcurrencyLimit {
  readonly current: number;
  /** Whether successes teach it anything: when false, the caller may skip working out a request's class. */
  readonly adaptive: boolean;
  /** A contention answer (429 without a limit code, 503) or a timeout. */
  onContention(): void;
  onSuccess(latencyMs: number, requestClass: string, inFlight: number): void;
}

export function createConcurrencyLimit(config: LimiterConfig['concurrency']): ConcurrencyLimit {
  return config.mode === 'adaptive' ? new AdaptiveConcurrency(config) : new FixedConcurrency(config.limit);
}

/** A fixed cap, what `p-limit(n)` gives. */
export class FixedConcurrency implements ConcurrencyLimit {
  readonly adaptive = false;

  constructor(readonly current: number) {}

  onContention(): void {}

  onSuccess(): void {}
}

/**
 * The adaptive limit —
 * - multiplicative decrease on contention (429 without a limit code, 503) and timeouts;
 * - a latency gradient per request class (quality × size: a high-quality image is not a
 *   slow low-quality one): the short-term average latency against the long-term one. When
 *   short > long × tolerance, requests are queueing upstream, and the limit moves toward
 *   limit × tolerance·long/short. Comparing averages, not the minimum, matters here: image
 *   latencies spread 2–3× around their median with no load at all;
 * - slow start first, as TCP's: +1 per success while every slot is busy, so the limit
 *   doubles each round trip, until the first contention answer or the first latency
 *   gradient below 1 (what TCP's ssthresh marks). Without it the climb from `limit` is +1 per
 *   round trip: at 30–90 s an image, 8 → 40 takes a quarter of an hour, while the account
 *   has room and the gateway's queue grows;
 * - then additive increase (+1 per limit's worth of successes) while the limit is in use;
 * - bounds [min, max].
 * Unlike Netflix's Gradient2 (which ignores drops), a contention 429 always lowers it.
 */
export class AdaptiveConcurrency implements ConcurrencyLimit {
  readonly adaptive = true;
  private limit: number;
  private slowStart: boolean;
  private readonly tracks = new Map<string, LatencyTrack>();

  constructor(private readonly config: LimiterConfig['concurrency']) {
    this.limit = config.limit;
    this.slowStart = config.slowStart;
  }

  /** Whether it is still in slow start (no contention or queueing upstream seen yet). */
  get inSlowStart(): boolean {
    return this.slowStart;
  }

  get current(): number {
    return Math.floor(this.limit);
  }

  onContention(): void {
    this.slowStart = false;
    this.limit = Math.max(this.config.min, this.limit * this.config.decrease);
  }

  onSuccess(latencyMs: number, requestClass: string, inFlight: number): void {
    const gradient = this.gradient(requestClass, latencyMs);
    if (gradient < 1) {
      this.slowStart = false;
      this.limit = Math.max(this.config.min, this.limit * (1 - this.config.smoothing * (1 - gradient)));
    } else if (this.slowStart) {
      // Only a limit that binds grows: slots left idle say nothing about what the provider takes.
      if (inFlight >= this.current) this.limit = Math.min(this.config.max, this.limit + 1);
    } else if (inFlight * 2 >= this.limit) {
      this.limit = Math.min(this.config.max, this.limit + 1 / Math.max(1, this.limit));
    }
  }

  private gradient(requestClass: string, latencyMs: number): number {
    const { shortSamples, longSamples, tolerance } = this.config;
    let t = this.tracks.get(requestClass);
    if (!t) {
      t = { short: latencyMs, long: latencyMs, samples: 0 };
      this.tracks.set(requestClass, t);
    }
    t.samples++;
    t.short += (latencyMs - t.short) / Math.min(t.samples, shortSamples);
    t.long += (latencyMs - t.long) / Math.min(t.samples, longSamples);
    // After load drops, let the long average come back down quickly (as Gradient2 does).
    if (t.long > 2 * t.short) t.long *= 0.95;
    if (t.samples < shortSamples) return 1;
    return Math.max(0.5, Math.min(1, (tolerance * t.long) / t.short));
  }
}
