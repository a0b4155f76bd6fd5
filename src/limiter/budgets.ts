import type { LimiterConfig } from './config.ts';
import type { Cost, Dimension } from './cost.ts';
import { DIMENSIONS } from './cost.ts';
import { gcraAvailable, gcraClampTo, gcraDrain, gcraParams, gcraTake, gcraWait, type GcraParams, type GcraState } from './gcra.ts';

interface Budget {
  limit: number;
  params: GcraParams;
  state: GcraState;
}

export type BudgetDecision = { ok: true } | { ok: false; waitMs: number; dimension: Dimension };

/** Admission is the hot path: one shared answer rather than an object per task. */
const ADMITTED: BudgetDecision = Object.freeze({ ok: true });

/**
 * RPM, IPM and TPM as GCRA budgets at `safety` × the provider's limit. Admission is atomic:
 * a cost is taken on every budget or on none. Costs are reserved before the call and
 * reconciled after it (`adjust`), so concurrent calls cannot overshoot the way
 * charge-after-response limiters do.
 */
export class Budgets {
  private readonly budgets: Partial<Record<Dimension, Budget>> = {};

  /**
   * `initiallyFull: false` starts every budget spent, so it paces from the first request
   * (the Redis store's fallback uses it: the shared budget may already be used up).
   */
  constructor(
    private readonly config: LimiterConfig['budgets'],
    now: number,
    private readonly initiallyFull = true,
  ) {
    for (const dim of DIMENSIONS) {
      const c = config[dim];
      if (c && c.limit !== 'auto') this.setLimit(dim, c.limit, now);
    }
  }

  /** GCRA parameters of a budget, for stores that keep the state elsewhere. */
  params(dim: Dimension): GcraParams | undefined {
    return this.budgets[dim]?.params;
  }

  has(dim: Dimension): boolean {
    return this.budgets[dim] !== undefined;
  }

  limitOf(dim: Dimension): number | undefined {
    return this.budgets[dim]?.limit;
  }

  /** (Re)defines a budget from the provider's limit; keeps what was used. */
  setLimit(dim: Dimension, providerLimit: number, now: number): void {
    const limit = Math.max(1, providerLimit * this.config.safety);
    const burst = this.config[dim]?.burst ?? limit;
    const params = gcraParams(limit, this.config.window, burst);
    const old = this.budgets[dim];
    const state: GcraState = { tat: this.initiallyFull ? now : now + params.tolerance };
    if (old) state.tat = now + Math.max(0, old.state.tat - now) * (params.emission / old.params.emission);
    this.budgets[dim] = { limit: providerLimit, params, state };
  }

  /**
   * Takes `cost` on every budget, or says how long until it would fit (Infinity: never).
   * Written out per dimension: this runs once per task, and a loop of keyed reads over
   * DIMENSIONS was a tenth of the limiter's CPU in the throughput bench.
   */
  admit(cost: Cost, now: number): BudgetDecision {
    const { rpm, ipm, tpm } = this.budgets;
    const wRpm = rpm && cost.rpm !== 0 ? gcraWait(rpm.state, rpm.params, cost.rpm, now) : 0;
    const wIpm = ipm && cost.ipm !== 0 ? gcraWait(ipm.state, ipm.params, cost.ipm, now) : 0;
    const wTpm = tpm && cost.tpm !== 0 ? gcraWait(tpm.state, tpm.params, cost.tpm, now) : 0;
    if (wRpm > 0 || wIpm > 0 || wTpm > 0) {
      // The longest wait decides; ties go to the first dimension, as RPM, IPM, TPM.
      const waitMs = Math.max(wRpm, wIpm, wTpm);
      return { ok: false, waitMs, dimension: wRpm === waitMs ? 'rpm' : wIpm === waitMs ? 'ipm' : 'tpm' };
    }
    if (rpm && cost.rpm !== 0) gcraTake(rpm.state, rpm.params, cost.rpm, now);
    if (ipm && cost.ipm !== 0) gcraTake(ipm.state, ipm.params, cost.ipm, now);
    if (tpm && cost.tpm !== 0) gcraTake(tpm.state, tpm.params, cost.tpm, now);
    return ADMITTED;
  }

  /** A limit the provider announced (x-ratelimit-limit-*): adopted unless the config gives one. */
  learnLimit(dim: Dimension, providerLimit: number, now: number): void {
    const configured = this.config[dim]?.limit;
    if (configured !== undefined && configured !== 'auto') return;
    if (this.limitOf(dim) !== providerLimit) this.setLimit(dim, providerLimit, now);
  }

  /**
   * Reconciles a reservation with what the call really cost. A charge counts from now even
   * if the budget has been idle (a TAT in the past means "full"); a refund never makes it
   * more than full.
   */
  adjust(dim: Dimension, delta: number, now: number): void {
    const b = this.budgets[dim];
    if (!b || delta === 0) return;
    const e = b.params.emission;
    b.state.tat = delta > 0 ? Math.max(b.state.tat, now) + delta * e : Math.max(b.state.tat + delta * e, now - b.params.tolerance);
  }

  /** The provider says `remaining` is left: never believe we have more. */
  clampTo(dim: Dimension, remaining: number, now: number): void {
    const b = this.budgets[dim];
    if (b) gcraClampTo(b.state, b.params, remaining * this.config.safety, now);
  }

  /**
   * ms until `cost` (the sum of what waits, this task included) would have passed every
   * budget at its rate. Written out per dimension, as `admit` is: it runs once per new task.
   */
  drainMs(cost: Cost, now: number): number {
    const { rpm, ipm, tpm } = this.budgets;
    const wRpm = rpm && cost.rpm !== 0 ? gcraDrain(rpm.state, rpm.params, cost.rpm, now) : 0;
    const wIpm = ipm && cost.ipm !== 0 ? gcraDrain(ipm.state, ipm.params, cost.ipm, now) : 0;
    const wTpm = tpm && cost.tpm !== 0 ? gcraDrain(tpm.state, tpm.params, cost.tpm, now) : 0;
    return wRpm > wIpm ? (wRpm > wTpm ? wRpm : wTpm) : wIpm > wTpm ? wIpm : wTpm;
  }

  available(dim: Dimension, now: number): number | undefined {
    const b = this.budgets[dim];
    return b ? gcraAvailable(b.state, b.params, now) : undefined;
  }
}
