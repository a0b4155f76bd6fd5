import type { Rng } from '../core/rng.ts';

/**
 * Full jitter (AWS architecture blog): U(0, min(cap, base · 2^retry)). Spreads retries of
 * many clients, so they do not return in waves; the blog's simulation shows ~half the calls
 * of un-jittered exponential backoff.
 */
export function fullJitter(rng: Rng, retry: number, baseMs: number, capMs: number): number {
  return rng.next() * Math.min(capMs, baseMs * 2 ** retry);
}

/**
 * A retry budget in the spirit of Google SRE and gRPC throttling: retries may be at most
 * `ratio` of first attempts (plus `minimum`), counted over a sliding window of first
 * attempts, so a failing upstream sees at most (1 + ratio)× its normal load.
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly ratio: number,
    private readonly minimum: number,
  ) {
    this.tokens = minimum;
  }

  /** Each first attempt earns `ratio` of a retry, up to a ceiling that bounds bursts. */
  onRequest(): void {
    this.tokens = Math.min(this.tokens + this.ratio, this.minimum + 1000 * this.ratio);
  }

  /** Spends one retry if there is one. */
  tryRetry(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(): number {
    return this.tokens;
  }
}
