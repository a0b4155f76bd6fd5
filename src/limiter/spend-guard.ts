import type { LimiterConfig } from './config.ts';

export type SpendDecision = { ok: true } | { ok: false; reason: 'high_only' | 'exhausted'; resetsInMs: number };

/**
 * Spend per period (aligned to the clock's epoch, so replicas and restarts agree on it),
 * reserved at admission and released if the call fails (providers bill what they
 * generate). At `warnAt` it only reports; at `highOnlyAt` only high and critical priority
 * pass; at 100 % nothing does until the period turns.
 */
export class SpendGuard {
  private periodStart = 0;
  private spent = 0;

  constructor(private readonly config: LimiterConfig['spend']) {}

  get enabled(): boolean {
    return this.config.budget !== undefined;
  }

  /** Share of the budget spent or reserved in the current period (0 when disabled). */
  used(now: number): number {
    if (!this.config.budget) return 0;
    this.roll(now);
    return this.spent / this.config.budget;
  }

  spentUsd(now: number): number {
    this.roll(now);
    return this.spent;
  }

  warning(now: number): boolean {
    return this.used(now) >= this.config.warnAt;
  }

  /** Whether `usd` more would pass the budget (a check only; `reserve` takes it). */
  wouldExhaust(usd: number, now: number): boolean {
    return this.config.budget !== undefined && this.used(now) + usd / this.config.budget > 1 + 1e-12;
  }

  /** Reserves `usd` for a call of `priority` (0 critical, 1 high, ...). */
  reserve(usd: number, priority: number, now: number): SpendDecision {
    const budget = this.config.budget;
    if (budget === undefined) return { ok: true };
    this.roll(now);
    const resetsInMs = this.periodStart + this.config.period - now;
    const after = (this.spent + usd) / budget;
    if (after > 1 + 1e-12) return { ok: false, reason: 'exhausted', resetsInMs };
    if (after > this.config.highOnlyAt && priority > 1) return { ok: false, reason: 'high_only', resetsInMs };
    this.spent += usd;
    return { ok: true };
  }

  release(usd: number, now: number): void {
    if (this.config.budget === undefined) return;
    this.roll(now);
    this.spent = Math.max(0, this.spent - usd);
  }

  private roll(now: number): void {
    const start = Math.floor(now / this.config.period) * this.config.period;
    if (start !== this.periodStart) {
      this.periodStart = start;
      this.spent = 0;
    }
  }
}
