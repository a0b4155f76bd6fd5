import type { ShedReason } from '../metrics/catalogue.ts';
import type { LimiterCore } from './limiter-core.ts';
import type { Ahead } from './priority-queue.ts';
import type { Task } from './task.ts';

/** Why a new task is refused at the door, with its retry-after when one is known. */
export interface Refusal {
  reason: ShedReason;
  retryAfterMs?: number;
}

/**
 * The checks a new task meets before it queues: a closed limiter, an aborted caller, an open
 * circuit, a full queue, an exhausted spend budget, and (with `queue.refuseEarly`) a
 * deadline the queue ahead of it already makes unmeetable.
 */
export class Entry {
  private readonly ahead: Ahead = { count: 0, rpm: 0, ipm: 0, tpm: 0 };
  /** Whether the store estimates how long what waits takes to pass its budgets. */
  private readonly drains: boolean;

  constructor(private readonly core: LimiterCore) {
    this.drains = typeof core.store.drainMs === 'function';
  }

  refusal(task: Task, now: number): Refusal | undefined {
    const core = this.core;
    if (core.closed) return { reason: 'shutdown' };
    if (task.callerSignal?.aborted) return { reason: 'cancelled' };
    if (core.circuit.stateAt(now) === 'open') return { reason: 'circuit_open', retryAfterMs: core.circuit.reopensAt() - now };
    if (core.queue.size >= core.config.queue.maxSize) return { reason: 'queue_full', retryAfterMs: undefined };
    if (task.price > 0 && core.spend.wouldExhaust(task.price, now)) return { reason: 'budget_exhausted' };
    return undefined;
  }

  /**
   * How long after its deadline a new task would start at the earliest (≤ 0: in time): what
   * waits at its priority and above must first pass the budgets at their rate, and, once
   * every slot is taken, the concurrency limit at the measured latency. Refusing such a task
   * at once (rather than when it reaches the head of the queue, its whole wait later) spares
   * the caller a held connection; the result is also its retry-after.
   */
  lateBy(task: Task, now: number): number {
    const core = this.core;
    const ahead = core.queue.ahead(task.priority, this.ahead);
    if (ahead.count === 0) return 0;
    const room = task.deadline - now;
    // Slots first: no budget state to read, and in a deep queue of quick calls it is the whole answer.
    const slots = core.concurrency.current;
    const waitingForSlot = ahead.count + 1 + core.running - slots;
    const slotWait = core.meanLatencyMs > 0 && waitingForSlot > 0 ? (waitingForSlot / slots) * core.meanLatencyMs : 0;
    if (slotWait > room || !this.drains) return slotWait - room;
    const cost = task.cost;
    ahead.rpm += cost.rpm;
    ahead.ipm += cost.ipm;
    ahead.tpm += cost.tpm;
    const drain = core.store.drainMs!(ahead, now);
    return (drain > slotWait ? drain : slotWait) - room;
  }
}
