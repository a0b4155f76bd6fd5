/**
 * A token bucket with continuous refill: `capacity` per `windowMs`, starting full. This is
 * the reading of OpenAI's headers that fits them: remaining = whole tokens left, reset =
 * time until the bucket is full again. Refill is lazy (computed on read), so an idle
 * account costs nothing.
 */
const EPSILON = 1e-9;

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly perMs: number;

  constructor(
    readonly capacity: number,
    readonly windowMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
    this.perMs = capacity / windowMs;
  }

  available(now: number): number {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.perMs);
      this.updatedAt = now;
    }
    return this.tokens;
  }

  take(amount: number, now: number): void {
    this.tokens = this.available(now) - amount;
  }

  /** Clock ms until `amount` tokens are available (0 if they are now, give or take float noise). */
  waitFor(amount: number, now: number): number {
    const missing = amount - this.available(now);
    return missing <= EPSILON ? 0 : missing / this.perMs;
  }

  /** Clock ms until the bucket is full: OpenAI's x-ratelimit-reset-*. */
  untilFull(now: number): number {
    return (this.capacity - this.available(now)) / this.perMs;
  }

  /** A bucket of another size that keeps what has been used of this one. */
  resized(capacity: number, now: number): TokenBucket {
    const next = new TokenBucket(capacity, this.windowMs, now);
    next.tokens = Math.max(0, capacity - (this.capacity - this.available(now)));
    return next;
  }
}
