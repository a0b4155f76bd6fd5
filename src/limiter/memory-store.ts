import { Budgets } from './budgets.ts';
import type { LimiterConfig } from './config.ts';
import { DIMENSIONS, type Cost, type Dimension } from './cost.ts';
import { readRateLimitHeaders } from './header-sync.ts';
import type { HeaderSource } from './outcome.ts';
import type { Admission, AdmitRequest, SyncLimiterStore, StoreSnapshot } from './store.ts';

const GRANTED: Admission = Object.freeze({ ok: true, lease: 'local' });

/** One process's budgets, leases and pause, answered synchronously. */
export class MemoryStore implements SyncLimiterStore {
  readonly kind = 'memory';
  readonly synchronous = true;
  private readonly budgets: Budgets;
  private inFlight = 0;
  private pausedUntil = 0;

  constructor(
    private readonly config: LimiterConfig['budgets'],
    now: number,
    initiallyFull = true,
  ) {
    this.budgets = new Budgets(config, now, initiallyFull);
  }

  admit(req: AdmitRequest): Admission {
    if (req.now < this.pausedUntil) return { ok: false, reason: 'cooldown', waitMs: this.pausedUntil - req.now };
    if (this.inFlight >= req.concurrencyLimit) return { ok: false, reason: 'concurrency', waitMs: undefined };
    const budget = this.budgets.admit(req.cost, req.now);
    if (!budget.ok) return { ok: false, reason: 'budget', waitMs: budget.waitMs };
    this.inFlight++;
    // Leases matter to shared stores only; one shared answer saves an allocation per task.
    return GRANTED;
  }

  release(_lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): void {
    this.inFlight--;
    if (!actual) return;
    for (const dim of DIMENSIONS) {
      const value = actual[dim];
      if (value !== undefined) this.budgets.adjust(dim, value - reserved[dim], now);
    }
  }

  pause(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  syncFromHeaders(headers: HeaderSource, now: number): void {
    for (const { dim, limit, remaining } of readRateLimitHeaders(headers, this.config.requestsHeader)) {
      if (limit !== undefined) this.budgets.learnLimit(dim, limit, now);
      if (remaining !== undefined) this.budgets.clampTo(dim, remaining, now);
    }
  }

  snapshot(now: number): StoreSnapshot {
    const remaining: Partial<Record<Dimension, number>> = {};
    const limits: Partial<Record<Dimension, number>> = {};
    for (const dim of DIMENSIONS) {
      const available = this.budgets.available(dim, now);
      if (available !== undefined) remaining[dim] = available;
      const limit = this.budgets.limitOf(dim);
      if (limit !== undefined) limits[dim] = limit;
    }
    return { inFlight: this.inFlight, pausedUntil: this.pausedUntil, remaining, limits };
  }

  drainMs(cost: Cost, now: number): number {
    const drain = this.budgets.drainMs(cost, now);
    return this.pausedUntil > now + drain ? this.pausedUntil - now : drain;
  }

  close(): void {}
}
