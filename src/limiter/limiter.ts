import { realClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { createTimeScale } from '../core/time-scale.ts';
import type { ShedReason } from '../metrics/catalogue.ts';
import { fullJitter, RetryBudget } from './backoff.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { classify, type FailureKind } from './classify.ts';
import { createConcurrencyLimit, type ConcurrencyLimit } from './concurrency.ts';
import { parseLimiterConfig, type LimiterConfig, type LimiterConfigInput } from './config.ts';
import { imageCost, ONE_REQUEST, priceOf, type Cost } from './cost.ts';
import { CATALOGUE, type Catalogue } from '../openai/catalogue.ts';
import { LimiterError } from './errors.ts';
import { MemoryStore } from './memory-store.ts';
import { createLimiterMetrics, type LimiterMetrics } from './metrics.ts';
import { Deadlines } from './deadlines.ts';
import { isPlainSuccess, observeError, observeValue, withErrorBody, type Observed } from './outcome.ts';
import { PriorityQueue, type Ahead } from './priority-queue.ts';
import { scaleLimiterConfig } from './scale.ts';
import { SpendGuard } from './spend-guard.ts';
import type { Admission, AdmitRequest, AsyncLimiterStore, LimiterStore } from './store.ts';
import { Attempts, isCost, priorityOf, requestClassOf, Task } from './task.ts';
import type { CircuitState } from './circuit-breaker.ts';
import type { AttemptContext, Execution, LimiterDeps, LimiterState, ScheduleOptions } from './types.ts';

export { PRIORITIES, type AttemptContext, type Execution, type LimiterDeps, type LimiterState, type PriorityName, type ScheduleOptions, type StoreFactory } from './types.ts';

const REFUND: Cost = { rpm: 0, ipm: 0, tpm: 0 };
/** Weight of one sample in the mean latency: about the last 20 answers. */
const LATENCY_SMOOTHING = 0.05;

/**
 * The bundled limiter: a priority queue in front of budgets (RPM/IPM/TPM), a concurrency
 * limit, an account-wide pause, a circuit breaker and a spend guard, with retries that
 * classify each failure. Every task ends exactly once: a value, the provider's final error,
 * or a LimiterError saying why it was shed.
 */
export class Limiter {
  readonly config: LimiterConfig;
  private readonly clock: Clock;
  private readonly store: LimiterStore;
  private readonly concurrency: ConcurrencyLimit;
  private readonly circuit: CircuitBreaker;
  readonly metrics: LimiterMetrics | undefined;
  readonly name: string;
  private readonly queue = new PriorityQueue<Task>();
  private readonly deadlines: Deadlines<Task>;
  private readonly retryBudget: RetryBudget;
  private readonly rng: Rng;
  private readonly spend: SpendGuard;
  private readonly catalogue: Catalogue;
  private seq = 0;
  private running = 0;
  private wake: { at: number; timer: TimerHandle } | undefined;
  /** Moving average of successful attempts' latency (ms; 0 before the first): with the concurrency limit, the service rate. */
  private meanLatencyMs = 0;
  private readonly ahead: Ahead = { count: 0, rpm: 0, ipm: 0, tpm: 0 };
  /** Whether the store estimates how long what waits takes to pass its budgets. */
  private readonly drains: boolean;
  private dispatching = false;
  private redispatch = false;
  private closed = false;
  /** Tasks waiting out a backoff or retry-after before they queue again, with that timer. */
  private readonly retryWaits = new Map<Task, TimerHandle>();
  private readonly admitRequest: AdmitRequest = { cost: REFUND, priority: 0, concurrencyLimit: 0, now: 0 };

  constructor(config: LimiterConfig, deps: LimiterDeps = {}) {
    this.clock = deps.clock ?? realClock;
    this.config = scaleLimiterConfig(config, createTimeScale(deps.timeScale ?? 1).factor);
    const store = deps.store ?? ((budgets: LimiterConfig['budgets'], clock: Clock) => new MemoryStore(budgets, clock.now()));
    this.store = typeof store === 'function' ? store(this.config.budgets, this.clock) : store;
    this.drains = typeof this.store.drainMs === 'function';
    this.concurrency = createConcurrencyLimit(this.config.concurrency);
    this.circuit = new CircuitBreaker(this.config.circuit);
    this.retryBudget = new RetryBudget(this.config.retry.budgetRatio, this.config.retry.budgetMinimum);
    this.rng = createRng(deps.seed ?? 1).fork('backoff');
    this.spend = new SpendGuard(this.config.spend);
    const prices = Object.entries(this.config.spend.prices);
    this.catalogue = (deps.catalogue ?? CATALOGUE).with(Object.fromEntries(prices.map(([id, p]) => [id, { prices: p }])), 'limiter config (spend.prices)');
    this.deadlines = new Deadlines(this.clock, (task) => {
      if (this.queue.remove(task)) this.shed(task, 'deadline_exceeded');
    });
    this.name = deps.name ?? 'default';
    this.metrics = deps.registry ? createLimiterMetrics(deps.registry, this, deps.timeScale ?? 1) : undefined;
  }

  /** Runs `task` under the limiter and returns its value, or throws its final error / a LimiterError. */
  schedule<T>(task: (ctx: AttemptContext) => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => this.submit(task, options, resolve as (v: unknown) => void, reject));
  }

  /** Like `schedule`, but never throws: says how the task ended and where its time went. */
  execute<T>(task: (ctx: AttemptContext) => Promise<T>, options: ScheduleOptions = {}): Promise<Execution<T>> {
    return new Promise<Execution<T>>((resolve) => this.submit(task, options, resolve as (v: unknown) => void, undefined));
  }

  private submit(
    fn: (ctx: AttemptContext) => Promise<unknown>,
    options: ScheduleOptions,
    resolve: Task['resolve'],
    reject: Task['reject'],
  ): void {
    const now = this.clock.now();
    const priority = priorityOf(options.priority);
    const input = options.cost ?? ONE_REQUEST;
    const explicitCost = isCost(input);
    const maxWaitDeadline = now + this.config.queue.maxWait;
    const task = new Task(
      priority,
      this.seq++,
      fn,
      explicitCost ? input : imageCost(input, this.catalogue),
      explicitCost || !this.spend.enabled ? 0 : priceOf(input, this.catalogue),
      explicitCost ? undefined : input,
      options.deadline ?? Infinity,
      maxWaitDeadline,
      now,
      options.signal,
      resolve,
      reject,
    );
    this.retryBudget.onRequest();
    const refusal = this.refuseAtEntry(task, now);
    if (refusal) return this.shed(task, refusal.reason, refusal.retryAfterMs);
    const late = this.config.queue.refuseEarly ? this.lateBy(task, now) : 0;
    if (late > 0) this.shed(task, 'deadline_unmeetable', late);
    else this.enqueue(task, false, now);
  }

  /**
   * How long after its deadline a new task would start at the earliest (≤ 0: in time): what
   * waits at its priority and above must first pass the budgets at their rate, and, once
   * every slot is taken, the concurrency limit at the measured latency. Refusing such a task
   * at once (rather than when it reaches the head of the queue, its whole wait later) spares
   * the caller a held connection; the result is also its retry-after.
   */
  private lateBy(task: Task, now: number): number {
    const ahead = this.queue.ahead(task.priority, this.ahead);
    if (ahead.count === 0) return 0;
    const room = task.deadline - now;
    // Slots first: no budget state to read, and in a deep queue of quick calls it is the whole answer.
    const slots = this.concurrency.current;
    const waitingForSlot = ahead.count + 1 + this.running - slots;
    const slotWait = this.meanLatencyMs > 0 && waitingForSlot > 0 ? (waitingForSlot / slots) * this.meanLatencyMs : 0;
    if (slotWait > room || !this.drains) return slotWait - room;
    const cost = task.cost;
    ahead.rpm += cost.rpm;
    ahead.ipm += cost.ipm;
    ahead.tpm += cost.tpm;
    const drain = this.store.drainMs!(ahead, now);
    return (drain > slotWait ? drain : slotWait) - room;
  }

  /** The limiter as it stands: circuit, queue, concurrency and budgets, so nothing outside reaches into them. */
  state(): LimiterState {
    const now = this.clock.now();
    const circuit = this.circuit.stateAt(now);
    return {
      now,
      circuit,
      reopensInMs: circuit === 'open' ? Math.max(0, this.circuit.reopensAt() - now) : undefined,
      queued: this.queue.size,
      inFlight: this.running,
      concurrencyLimit: this.concurrency.current,
      store: this.store.snapshot(now),
      storeFallback: this.store.usingFallback === true,
    };
  }

  /** The circuit's state now (cheaper than `state()` when that is all a caller needs). */
  circuitState(): CircuitState {
    return this.circuit.stateAt(this.clock.now());
  }

  /** Now on the limiter's clock, the one `ScheduleOptions.deadline` is read on. */
  now(): number {
    return this.clock.now();
  }

  /** Tasks waiting, and attempts running. */
  get pending(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.running;
  }

  queueDepthByPriority(): Map<number, number> {
    return this.queue.countByPriority();
  }

  spendUsed(): { usd: number; budget: number | undefined } {
    return { usd: this.spend.spentUsd(this.clock.now()), budget: this.config.spend.budget };
  }

  /** Refuses new tasks and sheds every queued one with `shutdown`; running attempts finish. */
  close(): void {
    this.closed = true;
    this.deadlines.clear();
    this.wake?.timer.cancel();
    this.wake = undefined;
    for (const task of this.queue.drain()) this.shed(task, 'shutdown');
    // A retry-after can be many minutes: a closing limiter does not wait for it.
    for (const [task, timer] of this.retryWaits) {
      timer.cancel();
      this.shed(task, 'shutdown');
    }
    this.retryWaits.clear();
  }

  private refuseAtEntry(task: Task, now: number): { reason: ShedReason; retryAfterMs?: number } | undefined {
    if (this.closed) return { reason: 'shutdown' };
    if (task.callerSignal?.aborted) return { reason: 'cancelled' };
    if (this.circuit.stateAt(now) === 'open') return { reason: 'circuit_open', retryAfterMs: this.circuit.reopensAt() - now };
    if (this.queue.size >= this.config.queue.maxSize) return { reason: 'queue_full', retryAfterMs: undefined };
    if (task.price > 0 && this.spend.wouldExhaust(task.price, now)) return { reason: 'budget_exhausted' };
    return undefined;
  }

  private enqueue(task: Task, returning = false, now?: number): void {
    const extra = task.extra;
    if (extra?.callerSignal && !extra.onAbort) {
      extra.onAbort = () => this.cancel(task);
      extra.callerSignal.addEventListener('abort', extra.onAbort, { once: true });
    }
    if (returning) this.queue.pushReturning(task);
    else this.queue.push(task);
    // With every slot taken nothing can start now, and the next completion dispatches.
    if (this.running < this.concurrency.current || !this.store.synchronous) this.dispatch(now);
    // Only a task still waiting after the dispatch pass needs its deadline watched.
    if (task.index !== -1) this.deadlines.add(task);
  }

  private cancel(task: Task): void {
    if (this.queue.remove(task) || this.endRetryWait(task)) this.shed(task, 'cancelled');
    else task.controller?.abort(task.callerSignal?.reason);
  }

  /** Stops a task's wait for its next attempt; returns whether it was waiting. */
  private endRetryWait(task: Task): boolean {
    const timer = this.retryWaits.get(task);
    if (!timer) return false;
    timer.cancel();
    this.retryWaits.delete(task);
    return true;
  }

  /** Starts as many queued tasks as the limits allow; re-entrant calls fold into one pass. */
  /** `now`: the caller's reading of the clock, if it has one (a clock read is a tenth of a task's cost). */
  private dispatch(now?: number): void {
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
    if (this.queue.size === 0) this.idle();
  }

  /** Nothing waits: hold no timers, so an idle limiter never keeps a process alive. */
  private idle(): void {
    this.deadlines.clear();
    this.wake?.timer.cancel();
    this.wake = undefined;
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
            if (admission.ok) await this.store.release(admission.lease, REFUND, task.cost, this.clock.now());
            continue;
          }
          if (!this.actOnAdmission(task, admission, this.clock.now())) break;
        }
      } while (this.redispatch);
    } finally {
      this.dispatching = false;
      this.store.noteWaiting?.(this.queue.bestPriority());
    }
    if (this.queue.size === 0) this.idle();
  }

  private circuitBlocks(now: number): boolean {
    if (this.circuit.stateAt(now) !== 'open') return false;
    this.wakeAt(this.circuit.reopensAt());
    return true;
  }

  /** Acts on the store's answer for the head task (starts it, sheds it, or waits); returns whether the dispatch pass goes on to the next task. */
  private actOnAdmission(task: Task, admission: Admission, now: number): boolean {
    if (!admission.ok) {
      if (admission.reason === 'concurrency') {
        // A local store says when a slot frees (a release); a shared one asks to poll.
        if (admission.waitMs !== undefined) this.wakeAt(now + admission.waitMs);
        return false;
      }
      const waitMs = admission.waitMs ?? 0;
      if (waitMs === Infinity) {
        this.queue.remove(task);
        this.shed(task, 'never_fits');
        return true;
      }
      if (now + waitMs > task.deadline) {
        this.queue.remove(task);
        this.shed(task, 'deadline_unmeetable', waitMs);
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
    if (this.spend.enabled && task.price > 0) {
      const spend = this.spend.reserve(task.price, task.priority, now);
      if (!spend.ok) {
        if (probe) this.circuit.releaseProbe();
        void this.store.release(admission.lease, REFUND, task.cost, now);
        this.queue.remove(task);
        this.shed(task, spend.reason === 'exhausted' ? 'budget_exhausted' : 'spend_high_only', spend.resetsInMs);
        return true;
      }
    }
    this.queue.remove(task);
    void this.attempt(task, admission.lease, now, probe);
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

  private async attempt(task: Task, lease: string, startedAt: number, probe: boolean): Promise<void> {
    let run = task.run;
    if (run === undefined) {
      run = task.run = new Attempts(startedAt);
      this.metrics?.observeWait((startedAt - task.scheduledAt) / 1000);
    }
    run.attempts++;
    this.running++;
    task.resetAttempt();
    if (this.config.retry.attemptTimeout !== undefined) this.armTimeout(task, this.config.retry.attemptTimeout);
    let observed: Observed;
    try {
      run.last = await task.fn(task);
      run.lastThrown = false;
      if (task.extra === undefined && isPlainSuccess(run.last)) {
        this.running--;
        return this.succeeded(task, run, lease, startedAt, probe);
      }
      observed = observeValue(run.last);
      if (observed.status !== undefined && observed.status >= 400) observed = await withErrorBody(observed, run.last);
    } catch (e) {
      run.last = e;
      run.lastThrown = true;
      observed = observeError(e);
    }
    const reported = task.reported;
    if (reported?.output_tokens !== undefined) {
      observed.outputTokens = reported.output_tokens;
      observed.inputTokens = reported.input_tokens;
    }
    this.running--;
    this.afterAttempt(task, run, lease, startedAt, observed, probe);
  }

  /**
   * Apart from `attempt`, and ended in `afterAttempt` (an attempt with a timeout never takes
   * the fast path): a closure or a timer local in `attempt` cost 10–15 % of the throughput bench.
   */
  private armTimeout(task: Task, ms: number): void {
    task.extras.timeout = this.clock.setTimer(() => task.timeOut(ms), ms);
  }

  /** The common case, without building an observation: a plain value came back. */
  private succeeded(task: Task, run: Attempts, lease: string, startedAt: number, probe: boolean): void {
    const now = this.clock.now();
    this.metrics?.countAttempt('ok');
    run.lastStatus = undefined;
    run.lastKind = 'ok';
    void this.store.release(lease, undefined, task.cost, now);
    this.learn('ok', now - startedAt, task, now, probe);
    this.finish(task);
    this.dispatch(now);
  }

  private afterAttempt(task: Task, run: Attempts, lease: string, startedAt: number, observed: Observed, probe: boolean): void {
    const extra = task.extra;
    if (extra?.timeout) {
      extra.timeout.cancel();
      extra.timeout = undefined;
      // A call aborted by our timeout failed by timing out, whatever error the client made of the abort.
      if (extra.timedOut && run.lastThrown) observed = observeError((run.last = extra.timedOut));
    }
    const now = this.clock.now();
    if (task.callerSignal?.aborted) observed.aborted = true;
    const { kind, retryAfterMs } = classify(observed, now);
    this.metrics?.countAttempt(kind);
    run.lastStatus = observed.status;
    run.lastKind = kind;
    const actual = observed.outputTokens !== undefined ? { tpm: observed.outputTokens + (observed.inputTokens ?? 0) } : undefined;
    if (observed.headers && this.config.budgets.syncFromHeaders) void this.store.syncFromHeaders(observed.headers, now);
    void this.store.release(lease, actual, task.cost, now);
    if (kind !== 'ok' && task.price > 0) this.spend.release(task.price, now);
    this.learn(kind, now - startedAt, task, now, probe);
    if (kind === 'limit') void this.store.pause(now + (retryAfterMs ?? 1000));
    const retry = kind === 'ok' ? undefined : this.retryDelay(task, run, kind, retryAfterMs, now);
    if (retry === undefined) this.finish(task);
    else this.retryLater(task, retry, kind);
    this.dispatch(now);
  }

  private learn(kind: FailureKind, latencyMs: number, task: Task, now: number, probe: boolean): void {
    if (kind === 'ok') {
      this.meanLatencyMs = this.meanLatencyMs === 0 ? latencyMs : this.meanLatencyMs + (latencyMs - this.meanLatencyMs) * LATENCY_SMOOTHING;
      if (this.concurrency.adaptive) this.concurrency.onSuccess(latencyMs, requestClassOf(task.costInput), this.running + 1);
      this.circuit.record(true, now, now - latencyMs);
      return;
    }
    if (kind === 'server') {
      this.circuit.record(false, now);
      this.concurrency.onContention();
      return;
    }
    if (kind === 'contention') {
      this.concurrency.onContention();
      if (this.circuit.recordContention(now)) return;
    }
    if (probe) this.circuit.releaseProbe();
  }

  /** ms to wait before the next attempt, or undefined to stop here. */
  private retryDelay(task: Task, run: Attempts, kind: FailureKind, retryAfterMs: number | undefined, now: number): number | undefined {
    if (kind === 'ok' || kind === 'fatal' || kind === 'cancelled' || this.closed) return undefined;
    if (task.callerSignal?.aborted || run.attempts >= this.config.retry.maxAttempts) return undefined;
    const { baseDelay, maxDelay } = this.config.retry;
    // A limit 429 waits for the account's pause (at any length); others back off with jitter.
    const jitter = kind === 'limit' ? 0 : fullJitter(this.rng, run.attempts - 1, baseDelay, maxDelay);
    const delay = Math.max(retryAfterMs ?? 0, jitter);
    // A wait longer than the task may wait is not worth holding the caller for.
    if (delay > this.config.queue.maxWait && now + delay > task.deadline) return undefined;
    if (!this.retryBudget.tryRetry()) return undefined;
    return delay;
  }

  private retryLater(task: Task, delayMs: number, kind: FailureKind): void {
    this.metrics?.countRetry(kind);
    // The retry keeps its place in line (same priority and sequence) and may wait maxWait again (or to a later deadline of its own).
    task.deadline = Math.max(task.deadline, this.clock.now() + delayMs + this.config.queue.maxWait);
    task.defaultDeadline = false;
    if (delayMs <= 0) return this.enqueue(task, true);
    const timer = this.clock.setTimer(() => {
      this.retryWaits.delete(task);
      this.enqueue(task, true);
    }, delayMs);
    this.retryWaits.set(task, timer);
  }

  /** Ends a task that has run at least once with its last attempt's outcome. */
  private finish(task: Task): void {
    this.cleanup(task);
    this.metrics?.countTask(task.run!.lastKind === 'ok' ? 'ok' : 'failed');
    task.settle();
  }

  private shed(task: Task, reason: ShedReason, retryAfterMs?: number): void {
    this.cleanup(task);
    this.metrics?.countShed(reason);
    this.metrics?.countTask('shed');
    const run = task.run;
    task.settleShed(run?.lastThrown && reason === 'cancelled' ? run.last : new LimiterError(reason, retryAfterMs), this.clock.now());
  }

  private cleanup(task: Task): void {
    const extra = task.extra;
    if (extra?.onAbort) extra.callerSignal?.removeEventListener('abort', extra.onAbort);
  }
}

/** `createLimiter(config, { clock, store, registry, timeScale })`: config is validated (zod). */
export function createLimiter(config: LimiterConfigInput | LimiterConfig = {}, deps: LimiterDeps = {}): Limiter {
  return new Limiter(parseLimiterConfig(config), deps);
}
