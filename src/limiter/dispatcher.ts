import type { Clock, TimerHandle } from '../core/clock.ts';
import { AttemptRunner, type Requeue } from './attempt-runner.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { ConcurrencyLimit } from './concurrency.ts';
import type { Cost } from './cost.ts';
import type { LimiterCore } from './limiter-core.ts';
import type { PriorityQueue } from './priority-queue.ts';
import type { Admission, AdmitRequest, AsyncLimiterStore, LimiterStore } from './store.ts';
import type { Task } from './task.ts';
import { waitReasonOf } from './task-spans.ts';

const REFUND: Cost = { rpm: 0, ipm: 0, tpm: 0 };

/**
 * Moves tasks from the queue into attempts: asks the store to admit the head task, and on
 * its answer starts it, sheds it (it can never fit, or not before its deadline), or waits —
 * for a slot (the next completion dispatches), a budget (a timer), or the circuit.
 */
export class Dispatcher implements Requeue {
  private readonly clock: Clock;
  private readonly store: LimiterStore;
  private readonly queue: PriorityQueue<Task>;
  private readonly concurrency: ConcurrencyLimit;
  private readonly circuit: CircuitBreaker;
  private readonly runner: AttemptRunner;
  private dispatching = false;
  private redispatch = false;
  private wake: { at: number; timer: TimerHandle } | undefined;
  private readonly admitRequest: AdmitRequest = { cost: REFUND, priority: 0, concurrencyLimit: 0, now: 0 };

  constructor(private readonly core: LimiterCore) {
    this.clock = core.clock;
    this.store = core.store;
    this.queue = core.queue;
    this.concurrency = core.concurrency;
    this.circuit = core.circuit;
    this.runner = new AttemptRunner(core, this);
  }

  /** Queues a task (a retry at its old place: `returning`) and dispatches if a slot may be free. */
  enqueue(task: Task, returning: boolean, now?: number): void {
    const extra = task.extra;
    if (extra?.callerSignal && !extra.onAbort) {
      extra.onAbort = () => this.cancel(task);
      extra.callerSignal.addEventListener('abort', extra.onAbort, { once: true });
    }
    if (returning) this.queue.pushReturning(task);
    else this.queue.push(task);
    // With every slot taken nothing can start now, and the next completion dispatches.
    if (this.core.running < this.concurrency.current || !this.store.synchronous) this.dispatch(now);
    else extra?.spans?.waited('concurrency');
    // Only a task still waiting after the dispatch pass needs its deadline watched.
    if (task.index !== -1) this.core.deadlines.add(task);
  }

  /** Holds no timers: a closing limiter, or one with nothing waiting. */
  stop(): void {
    this.core.deadlines.clear();
    this.wake?.timer.cancel();
    this.wake = undefined;
  }

  private cancel(task: Task): void {
    if (this.queue.remove(task) || this.core.endRetryWait(task)) this.core.shed(task, 'cancelled');
    else task.controller?.abort(task.callerSignal?.reason);
  }

  /**
   * Starts as many queued tasks as the limits allow; re-entrant calls fold into one pass.
   * `now`: the caller's reading of the clock, if it has one (a clock read is a tenth of a task's cost).
   */
  dispatch(now?: number): void {
    if (this.dispatching) {
      this.redispatch = true;
      return;
    }
    this.dispatching = true;
    const store = this.store;
    if (!store.synchronous) {
      void this.pump(store);
      return;
    }
    try {
      let at = now ?? this.clock.now();
      do {
        this.redispatch = false;
        const now = at;
        // One request object for the whole pass: the memory store reads it and keeps nothing.
        const request = this.admitRequest;
        request.now = now;
        for (let task = this.queue.peek(); task; task = this.queue.peek()) {
          if (!this.circuit.closed && this.circuitBlocks(now)) break;
          request.cost = task.cost;
          request.priority = task.priority;
          request.concurrencyLimit = this.concurrency.current;
          const admission = store.admit(request);
          if (!this.actOnAdmission(task, admission, now)) break;
        }
        if (this.redispatch) at = this.clock.now();
      } while (this.redispatch);
    } finally {
      this.dispatching = false;
    }
    // Nothing waits: hold no timers, so an idle limiter never keeps a process alive.
    if (this.queue.size === 0) this.stop();
  }

  /** The same loop for a shared store, whose answers are promises; it also tells the store what waits here. */
  private async pump(store: AsyncLimiterStore): Promise<void> {
    try {
      do {
        this.redispatch = false;
        for (let task = this.queue.peek(); task; task = this.queue.peek()) {
          if (this.circuitBlocks(this.clock.now())) break;
          let admission: Admission;
          try {
            admission = await store.admit({ cost: task.cost, priority: task.priority, concurrencyLimit: this.concurrency.current, now: this.clock.now() });
          } catch {
            admission = { ok: false, reason: 'budget', waitMs: 50 };
          }
          if (task.index === -1) {
            // Cancelled or timed out while the store answered: give back what it took.
            if (admission.ok) await store.release(admission.lease, REFUND, task.cost, this.clock.now());
            continue;
          }
          if (!this.actOnAdmission(task, admission, this.clock.now())) break;
        }
      } while (this.redispatch);
    } finally {
      this.dispatching = false;
      store.noteWaiting?.(this.queue.bestPriority());
    }
    if (this.queue.size === 0) this.stop();
  }

  private circuitBlocks(now: number): boolean {
    if (this.circuit.stateAt(now) !== 'open') return false;
    this.core.lastWait = 'circuit';
    this.queue.peek()?.extra?.spans?.waited('circuit');
    this.wakeAt(this.circuit.reopensAt());
    return true;
  }

  /** Acts on the store's answer for the head task (starts it, sheds it, or waits); returns whether the dispatch pass goes on to the next task. */
  private actOnAdmission(task: Task, admission: Admission, now: number): boolean {
    if (!admission.ok) {
      const reason = waitReasonOf(admission.reason);
      this.core.lastWait = reason;
      task.extra?.spans?.waited(reason);
      if (admission.reason === 'concurrency') {
        // A local store says when a slot frees (a release); a shared one asks to poll.
        if (admission.waitMs !== undefined) this.wakeAt(now + admission.waitMs);
        return false;
      }
      const waitMs = admission.waitMs ?? 0;
      if (waitMs === Infinity) {
        this.queue.remove(task);
        this.core.shed(task, 'never_fits');
        return true;
      }
      if (now + waitMs > task.deadline) {
        this.queue.remove(task);
        this.core.shed(task, 'deadline_unmeetable', waitMs);
        return true;
      }
      this.wakeAt(now + waitMs);
      return false;
    }
    // In half-open, the calls allowed through are the probes.
    const probe = !this.circuit.closed && this.circuit.stateAt(now) === 'half-open';
    if (probe && !this.circuit.allow(now)) {
      void this.store.release(admission.lease, REFUND, task.cost, now);
      return false;
    }
    const spend = this.core.spend;
    if (spend.enabled && task.price > 0) {
      const reserved = spend.reserve(task.price, task.priority, now);
      if (!reserved.ok) {
        if (probe) this.circuit.releaseProbe();
        void this.store.release(admission.lease, REFUND, task.cost, now);
        this.queue.remove(task);
        this.core.shed(task, reserved.reason === 'exhausted' ? 'budget_exhausted' : 'spend_high_only', reserved.resetsInMs);
        return true;
      }
    }
    this.queue.remove(task);
    void this.runner.attempt(task, admission.lease, now, probe);
    return true;
  }

  private wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at) return;
    this.wake?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.wake = undefined;
      this.dispatch();
    }, at - this.clock.now());
    this.wake = { at, timer };
  }
}
