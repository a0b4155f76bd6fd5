import type { LimiterConfig } from './config.ts';

/**
 * The concurrency limit: fixed, or adaptive —
 * - multiplicative decrease on contention (429 without a limit code, 503) and timeouts;
 * - a latency gradient: each success compares its latency with the no-load baseline of its
 *   request class (quality × size; a high-quality image is not a slow low-quality one), and
 *   latency above baseline × tolerance pulls the limit down by baseline·tolerance / latency;
 * - additive increase (+1 per limit's worth of successes) while the limit is in use;
 * - bounds [min, max].
 * Unlike Netflix's Gradient2 (which ignores drops), a contention 429 always lowers it.
 */
export class ConcurrencyLimit {
  private limit: number;
  private readonly baselines = new Map<string, { value: number; at: number }>();

  constructor(private readonly config: LimiterConfig['concurrency']) {
    this.limit = config.limit;
  }

  get current(): number {
    return Math.floor(this.limit);
  }

  get adaptive(): boolean {
    return this.config.mode === 'adaptive';
  }

  onContention(): void {
    if (!this.adaptive) return;
    this.limit = Math.max(this.config.min, this.limit * this.config.decrease);
  }

  onSuccess(latencyMs: number, requestClass: string, inFlight: number, now: number): void {
    if (!this.adaptive) return;
    const baseline = this.baseline(requestClass, latencyMs, now);
    const allowed = baseline * this.config.tolerance;
    if (latencyMs > allowed) {
      const gradient = Math.max(0.5, allowed / latencyMs);
      this.limit = Math.max(this.config.min, this.limit * (1 - this.config.smoothing * (1 - gradient)));
    } else if (inFlight * 2 >= this.limit) {
      this.limit = Math.min(this.config.max, this.limit + 1 / Math.max(1, this.limit));
    }
  }

  /** The lowest latency seen for the class, forgotten after `baselineWindow` so it re-measures. */
  private baseline(requestClass: string, latencyMs: number, now: number): number {
    const b = this.baselines.get(requestClass);
    if (!b || latencyMs <= b.value || now - b.at > this.config.baselineWindow) {
      this.baselines.set(requestClass, { value: latencyMs, at: now });
      return latencyMs;
    }
    return b.value;
  }
}
