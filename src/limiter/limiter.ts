import type { Registry } from 'prom-client';
import { realClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { createTimeScale } from '../core/time-scale.ts';
import type { ShedReason } from '../metrics/catalogue.ts';
import { fullJitter, RetryBudget } from './backoff.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { classify, type FailureKind } from './classify.ts';
import { ConcurrencyLimit } from './concurrency.ts';
import { parseLimiterConfig, type LimiterConfig, type LimiterConfigInput } from './config.ts';
import { imageCost, ONE_REQUEST, priceOf, type Cost, type ImageCostInput } from './cost.ts';
import { CATALOGUE, type Catalogue } from '../openai/catalogue.ts';
import { parseWxH, sizeLabel } from '../openai/sizes.ts';
import { LimiterError } from './errors.ts';
import { MemoryStore } from './memory-store.ts';
import { createLimiterMetrics, type LimiterMetrics } from './metrics.ts';
import { Deadlines } from './deadlines.ts';
import { isPlainSuccess, observeError, observeValue, withErrorBody, type Observed } from './outcome.ts';
import { PriorityQueue, type Ahead, type QueueEntry } from './priority-queue.ts';
import { scaleLimiterConfig } from './scale.ts';
import { SpendGuard } from './spend-guard.ts';
import type { Admission, AdmitRequest, LimiterStore } from './store.ts';

export const PRIORITIES = { critical: 0, high: 1, normal: 2, low: 3 } as const;
export type PriorityName = keyof typeof PRIORITIES;

export interface AttemptContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts when the caller cancels; pass it to fetch or the SDK. */
  signal: AbortSignal;
  /**
   * Tells the limiter what the call really used, when the result is a fetch Response whose
   * body it does not read (SDK results with `usage` are read without this).
   */
  reportUsage(usage: { input_tokens?: number; output_tokens?: number }): void;
}

export interface ScheduleOptions {
  /** `critical`, `high`, `normal` (default), `low`, or 0–9 (0 first). */
  priority?: PriorityName | number;
  /** What the call costs: an images request (its fields are priced), or an explicit cost. Default: one request. */
  cost?: Cost | ImageCostInput;
  /**
   * Absolute clock time by which the task must have started; default now + queue.maxWait. A
   * later one is honoured (an async job may wait hours for its turn).
   */
  deadline?: number;
  signal?: AbortSignal;
}

/** How a task ended, with where its time went. */
export interface Execution<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  attempts: number;
  /** ms between schedule and the first attempt. */
  queueMs: number;
  /** Status of the last upstream attempt (undefined: none, or no response). */
  lastStatus: number | undefined;
  lastKind: FailureKind | undefined;
}

/** Builds a store from the limiter's budgets (already time-scaled) and clock. */
export type StoreFactory = (budgets: LimiterConfig['budgets'], clock: Clock) => LimiterStore;

export interface LimiterDeps {
  clock?: Clock;
  /** Default: a MemoryStore. Pass a factory (e.g. for RedisStore) so it gets the scaled budgets. */
  store?: LimiterStore | StoreFactory;
  registry?: Registry;
  /** Multiplies every duration of the config (windows, waits, backoff). Default 1. */
  timeScale?: number;
  /** Label for metrics: the upstream account's name, never its key. Default `default`. */
  name?: string;
  /** Seed for backoff jitter. Default 1. */
  seed?: number;
  /** The models whose tokens and prices price the tasks. Default: the built-in catalogue (with `spend.prices` applied). */
  catalogue?: Catalogue;
}

/**
 * A scheduled task. It is also the context its task receives (`AttemptContext`): one object
 * per task rather than one per attempt, since allocation is most of a task's cost here.
 */
class Job implements QueueEntry, AttemptContext {
  index = -1;
  deadline: number;
  /** Deadline set by default (now + maxWait): such deadlines arrive in order. */
  defaultDeadline: boolean;
  /** Made when the task first starts: a queued task carries no attempt state. */
  run: Run | undefined = undefined;
  /** What few tasks need (a caller signal, an attempt signal, reported usage), made on demand. */
  extra: JobExtra | undefined;

  constructor(
    readonly priority: number,
    readonly seq: number,
    readonly task: (ctx: AttemptContext) => Promise<unknown>,
    readonly cost: Cost,
    readonly price: number,
    /** The images request the cost came from, if any: its quality × size is the latency class. */
    readonly costInput: ImageCostInput | undefined,
    deadline: number,
    maxWaitDeadline: number,
    readonly scheduledAt: number,
    callerSignal: AbortSignal | undefined,
    /** `schedule`: the value (or, with `reject`, the error). `execute`: an Execution. */
    readonly resolve: (v: unknown) => void,
    readonly reject: ((e: unknown) => void) | undefined,
  ) {
    this.defaultDeadline = deadline === Infinity;
    this.deadline = this.defaultDeadline ? maxWaitDeadline : deadline;
    this.extra = callerSignal ? { callerSignal, onAbort: undefined, controller: undefined, reported: undefined } : undefined;
  }

  get callerSignal(): AbortSignal | undefined {
    return this.extra?.callerSignal;
  }

  get controller(): AbortController | undefined {
    return this.extra?.controller;
  }

  get reported(): Usage | undefined {
    return this.extra?.reported;
  }

  get extras(): JobExtra {
    return (this.extra ??= { callerSignal: undefined, onAbort: undefined, controller: undefined, reported: undefined });
  }

  get attempt(): number {
    return this.run?.attempts ?? 0;
  }

  /** Made on first read: most tasks never read it, and an AbortController per attempt cost a tenth of the run. */
  get signal(): AbortSignal {
    const extra = this.extras;
    if (!extra.controller) {
      extra.controller = new AbortController();
      if (extra.callerSignal?.aborted) extra.controller.abort(extra.callerSignal.reason);
    }
    return extra.controller.signal;
  }

  reportUsage(usage: Usage): void {
    this.extras.reported = usage;
  }

  /** The attempt ran out of time: abort its signal (made now if the task has not read it yet). */
  timeOut(ms: number): void {
    const extra = this.extras;
    extra.timedOut = new DOMException(`The attempt timed out after ${ms} ms (retry.attemptTimeout)`, 'TimeoutError');
    extra.controller ??= new AbortController();
    extra.controller.abort(extra.timedOut);
  }

  /** A new attempt starts with a fresh signal and no usage reported. */
  resetAttempt(): void {
    if (this.extra) {
      this.extra.controller = undefined;
      this.extra.reported = undefined;
      this.extra.timedOut = undefined;
    }
  }
}

type Usage = { input_tokens?: number; output_tokens?: number };

/**
 * A task's attempts so far. Kept apart from the Job because 100k queued jobs would
 * otherwise each carry six fields they do not use yet: live bytes per queued task are
 * what garbage collection (about half the CPU at 100k queued) pays for.
 */
class Run {
  attempts = 0;
  /** The last attempt's value, or its error when `lastThrown`. */
  last: unknown = undefined;
  lastThrown = false;
  lastStatus: number | undefined = undefined;
  lastKind: FailureKind | undefined = undefined;

  constructor(readonly firstStartAt: number) {}
}

interface JobExtra {
  callerSignal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  controller: AbortController | undefined;
  reported: Usage | undefined;
  /** The running attempt's `retry.attemptTimeout` timer, and the error it aborted the attempt with. */
  timeout?: TimerHandle;
  timedOut?: DOMException;
}

const REFUND: Cost = { rpm: 0, ipm: 0, tpm: 0 };
/** Weight of one sample in the mean latency: about the last 20 answers. */
const LATENCY_SMOOTHING = 0.05;

/**
 * A latency class per quality × size, free-form sizes folded into megapixel classes so
 * the adaptive limit keeps a bounded number of trackers.
 */
function requestClassOf(input: ImageCostInput | undefined): string {
  if (!input) return 'default';
  const dims = input.size ? parseWxH(input.size) : undefined;
  return `${input.quality ?? 'auto'}/${dims ? sizeLabel(dims.width, dims.height) : (input.size ?? 'auto')}`;
}

const isCost = (c: Cost | ImageCostInput): c is Cost => typeof (c as Cost).rpm === 'number' && typeof (c as Cost).tpm === 'number';

function priorityOf(p: ScheduleOptions['priority']): number {
  if (p === undefined) return PRIORITIES.normal;
  if (typeof p === 'string' && p in PRIORITIES) return PRIORITIES[p as PriorityName];
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 9) return p;
  throw new TypeError(`Expected \`priority\` to be one of critical, high, normal, low or an integer 0–9, got \`${String(p)}\` (${typeof p})`);
}

/**
 * The bundled limiter: a priority queue in front of budgets (RPM/IPM/TPM), a concurrency
 * limit, an account-wide pause, a circuit breaker and a spend guard, with retries that
 * classify each failure. Every task ends exactly once: a value, the provider's final error,
 * or a LimiterError saying why it was shed.
 */
export class Limiter {
  readonly config: LimiterConfig;
  readonly clock: Clock;
  readonly store: LimiterStore;
  readonly concurrency: ConcurrencyLimit;
  readonly circuit: CircuitBreaker;
  readonly metrics: LimiterMetrics | undefined;
  readonly name: string;
  private readonly queue = new PriorityQueue<Job>();
  private readonly deadlines: Deadlines<Job>;
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
  private readonly retryWaits = new Map<Job, TimerHandle>();
  private readonly admitRequest: AdmitRequest = { cost: REFUND, priority: 0, concurrencyLimit: 0, now: 0 };

  constructor(config: LimiterConfig, deps: LimiterDeps = {}) {
    this.clock = deps.clock ?? realClock;
    this.config = scaleLimiterConfig(config, createTimeScale(deps.timeScale ?? 1).factor);
    const store = deps.store ?? ((budgets: LimiterConfig['budgets'], clock: Clock) => new MemoryStore(budgets, clock.now()));
    this.store = typeof store === 'function' ? store(this.config.budgets, this.clock) : store;
    this.drains = typeof this.store.drainMs === 'function';
    this.concurrency = new ConcurrencyLimit(this.config.concurrency);
    this.circuit = new CircuitBreaker(this.config.circuit);
    this.retryBudget = new RetryBudget(this.config.retry.budgetRatio, this.config.retry.budgetMinimum);
    this.rng = createRng(deps.seed ?? 1).fork('backoff');
    this.spend = new SpendGuard(this.config.spend);
    const prices = Object.entries(this.config.spend.prices);
    this.catalogue = (deps.catalogue ?? CATALOGUE).with(Object.fromEntries(prices.map(([id, p]) => [id, { prices: p }])), 'limiter config (spend.prices)');
    this.deadlines = new Deadlines(this.clock, (job) => {
      if (this.queue.remove(job)) this.shed(job, 'deadline_exceeded');
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
    task: (ctx: AttemptContext) => Promise<unknown>,
    options: ScheduleOptions,
    resolve: Job['resolve'],
    reject: Job['reject'],
  ): void {
    const now = this.clock.now();
    const priority = priorityOf(options.priority);
    const input = options.cost ?? ONE_REQUEST;
    const explicitCost = isCost(input);
    const maxWaitDeadline = now + this.config.queue.maxWait;
    const job = new Job(
      priority,
      this.seq++,
      task,
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
    const refusal = this.refuseAtEntry(job, now);
    if (refusal) return this.shed(job, refusal.reason, refusal.retryAfterMs);
    const late = this.config.queue.refuseEarly ? this.lateBy(job, now) : 0;
    if (late > 0) this.shed(job, 'deadline_unmeetable', late);
    else this.enqueue(job, false, now);
  }

  /**
   * How long after its deadline a new task would start at the earliest (≤ 0: in time): what
   * waits at its priority and above must first pass the budgets at their rate, and, once
   * every slot is taken, the concurrency limit at the measured latency. Refusing such a task
   * at once (rather than when it reaches the head of the queue, its whole wait later) spares
   * the caller a held connection; the result is also its retry-after.
   */
  private lateBy(job: Job, now: number): number {
    const ahead = this.queue.ahead(job.priority, this.ahead);
    if (ahead.count === 0) return 0;
    const room = job.deadline - now;
    // Slots first: no budget state to read, and in a deep queue of quick calls it is the whole answer.
    const slots = this.concurrency.current;
    const waitingForSlot = ahead.count + 1 + this.running - slots;
    const slotWait = this.meanLatencyMs > 0 && waitingForSlot > 0 ? (waitingForSlot / slots) * this.meanLatencyMs : 0;
    if (slotWait > room || !this.drains) return slotWait - room;
    const cost = job.cost;
    ahead.rpm += cost.rpm;
    ahead.ipm += cost.ipm;
    ahead.tpm += cost.tpm;
    const drain = this.store.drainMs!(ahead, now);
    return (drain > slotWait ? drain : slotWait) - room;
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
    for (const job of this.queue.drain()) this.shed(job, 'shutdown');
    // A retry-after can be many minutes: a closing limiter does not wait for it.
    for (const [job, timer] of this.retryWaits) {
      timer.cancel();
      this.shed(job, 'shutdown');
    }
    this.retryWaits.clear();
  }

  private refuseAtEntry(job: Job, now: number): { reason: ShedReason; retryAfterMs?: number } | undefined {
    if (this.closed) return { reason: 'shutdown' };
    if (job.callerSignal?.aborted) return { reason: 'cancelled' };
    if (this.circuit.stateAt(now) === 'open') return { reason: 'circuit_open', retryAfterMs: this.circuit.reopensAt() - now };
    if (this.queue.size >= this.config.queue.maxSize) return { reason: 'queue_full', retryAfterMs: undefined };
    if (job.price > 0 && this.spend.wouldExhaust(job.price, now)) return { reason: 'budget_exhausted' };
    return undefined;
  }

  private enqueue(job: Job, returning = false, now?: number): void {
    const extra = job.extra;
    if (extra?.callerSignal && !extra.onAbort) {
      extra.onAbort = () => this.cancel(job);
      extra.callerSignal.addEventListener('abort', extra.onAbort, { once: true });
    }
    if (returning) this.queue.pushReturning(job);
    else this.queue.push(job);
    // With every slot taken nothing can start now, and the next completion dispatches.
    if (this.running < this.concurrency.current || this.store.kind !== 'memory') this.dispatch(now);
    // Only a task still waiting after the dispatch pass needs its deadline watched.
    if (job.index !== -1) this.deadlines.add(job);
  }

  private cancel(job: Job): void {
    if (this.queue.remove(job) || this.endRetryWait(job)) this.shed(job, 'cancelled');
    else job.controller?.abort(job.callerSignal?.reason);
  }

  /** Stops a task's wait for its next attempt; returns whether it was waiting. */
  private endRetryWait(job: Job): boolean {
    const timer = this.retryWaits.get(job);
    if (!timer) return false;
    timer.cancel();
    this.retryWaits.delete(job);
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
    if (this.store.kind !== 'memory') {
      void this.pump();
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
        for (let job = this.queue.peek(); job; job = this.queue.peek()) {
          if (!this.circuit.closed && this.circuitBlocks(now)) break;
          request.cost = job.cost;
          request.priority = job.priority;
          request.concurrencyLimit = this.concurrency.current;
          const admission = this.store.admit(request) as Admission;
          if (!this.admitted(job, admission, now)) break;
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
  private async pump(): Promise<void> {
    try {
      do {
        this.redispatch = false;
        for (let job = this.queue.peek(); job; job = this.queue.peek()) {
          if (this.circuitBlocks(this.clock.now())) break;
          let admission: Admission;
          try {
            admission = await this.store.admit({ cost: job.cost, priority: job.priority, concurrencyLimit: this.concurrency.current, now: this.clock.now() });
          } catch {
            admission = { ok: false, reason: 'budget', waitMs: 50 };
          }
          if (job.index === -1) {
            // Cancelled or timed out while the store answered: give back what it took.
            if (admission.ok) await this.store.release(admission.lease, REFUND, job.cost, this.clock.now());
            continue;
          }
          if (!this.admitted(job, admission, this.clock.now())) break;
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

  /** Acts on the store's answer for the head job; returns whether to keep dispatching. */
  private admitted(job: Job, admission: Admission, now: number): boolean {
    if (!admission.ok) {
      if (admission.reason === 'concurrency') {
        // A local store says when a slot frees (a release); a shared one asks to poll.
        if (admission.waitMs !== undefined) this.wakeAt(now + admission.waitMs);
        return false;
      }
      const waitMs = admission.waitMs ?? 0;
      if (waitMs === Infinity) {
        this.queue.remove(job);
        this.shed(job, 'never_fits');
        return true;
      }
      if (now + waitMs > job.deadline) {
        this.queue.remove(job);
        this.shed(job, 'deadline_unmeetable', waitMs);
        return true;
      }
      this.wakeAt(now + waitMs);
      return false;
    }
    // In half-open, the calls allowed through are the probes.
    const probe = !this.circuit.closed && this.circuit.stateAt(now) === 'half-open';
    if (probe && !this.circuit.allow(now)) {
      void this.store.release(admission.lease, REFUND, job.cost, now);
      return false;
    }
    if (this.spend.enabled && job.price > 0) {
      const spend = this.spend.reserve(job.price, job.priority, now);
      if (!spend.ok) {
        if (probe) this.circuit.releaseProbe();
        void this.store.release(admission.lease, REFUND, job.cost, now);
        this.queue.remove(job);
        this.shed(job, spend.reason === 'exhausted' ? 'budget_exhausted' : 'spend_high_only', spend.resetsInMs);
        return true;
      }
    }
    this.queue.remove(job);
    void this.attempt(job, admission.lease, now, probe);
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

  private async attempt(job: Job, lease: string, startedAt: number, probe: boolean): Promise<void> {
    let run = job.run;
    if (run === undefined) {
      run = job.run = new Run(startedAt);
      this.metrics?.observeWait((startedAt - job.scheduledAt) / 1000);
    }
    run.attempts++;
    this.running++;
    job.resetAttempt();
    if (this.config.retry.attemptTimeout !== undefined) this.armTimeout(job, this.config.retry.attemptTimeout);
    let observed: Observed;
    try {
      run.last = await job.task(job);
      run.lastThrown = false;
      if (job.extra === undefined && isPlainSuccess(run.last)) {
        this.running--;
        return this.succeeded(job, run, lease, startedAt, probe);
      }
      observed = observeValue(run.last);
      if (observed.status !== undefined && observed.status >= 400) observed = await withErrorBody(observed, run.last);
    } catch (e) {
      run.last = e;
      run.lastThrown = true;
      observed = observeError(e);
    }
    const reported = job.reported;
    if (reported?.output_tokens !== undefined) {
      observed.outputTokens = reported.output_tokens;
      observed.inputTokens = reported.input_tokens;
    }
    this.running--;
    this.afterAttempt(job, run, lease, startedAt, observed, probe);
  }

  /**
   * Apart from `attempt`, and ended in `afterAttempt` (an attempt with a timeout never takes
   * the fast path): a closure or a timer local in `attempt` cost 10–15 % of the throughput bench.
   */
  private armTimeout(job: Job, ms: number): void {
    job.extras.timeout = this.clock.setTimer(() => job.timeOut(ms), ms);
  }

  /** The common case, without building an observation: a plain value came back. */
  private succeeded(job: Job, run: Run, lease: string, startedAt: number, probe: boolean): void {
    const now = this.clock.now();
    this.metrics?.countAttempt('ok');
    run.lastStatus = undefined;
    run.lastKind = 'ok';
    void this.store.release(lease, undefined, job.cost, now);
    this.learn('ok', now - startedAt, job, now, probe);
    this.finish(job);
    this.dispatch(now);
  }

  private afterAttempt(job: Job, run: Run, lease: string, startedAt: number, observed: Observed, probe: boolean): void {
    const extra = job.extra;
    if (extra?.timeout) {
      extra.timeout.cancel();
      extra.timeout = undefined;
      // A call aborted by our timeout failed by timing out, whatever error the client made of the abort.
      if (extra.timedOut && run.lastThrown) observed = observeError((run.last = extra.timedOut));
    }
    const now = this.clock.now();
    if (job.callerSignal?.aborted) observed.aborted = true;
    const { kind, retryAfterMs } = classify(observed, now);
    this.metrics?.countAttempt(kind);
    run.lastStatus = observed.status;
    run.lastKind = kind;
    const actual = observed.outputTokens !== undefined ? { tpm: observed.outputTokens + (observed.inputTokens ?? 0) } : undefined;
    if (observed.headers && this.config.budgets.syncFromHeaders) void this.store.syncFromHeaders(observed.headers, now);
    void this.store.release(lease, actual, job.cost, now);
    if (kind !== 'ok' && job.price > 0) this.spend.release(job.price, now);
    this.learn(kind, now - startedAt, job, now, probe);
    if (kind === 'limit') void this.store.pause(now + (retryAfterMs ?? 1000));
    const retry = kind === 'ok' ? undefined : this.retryDelay(job, run, kind, retryAfterMs, now);
    if (retry === undefined) this.finish(job);
    else this.retryLater(job, retry, kind);
    this.dispatch(now);
  }

  private learn(kind: FailureKind, latencyMs: number, job: Job, now: number, probe: boolean): void {
    if (kind === 'ok') {
      this.meanLatencyMs = this.meanLatencyMs === 0 ? latencyMs : this.meanLatencyMs + (latencyMs - this.meanLatencyMs) * LATENCY_SMOOTHING;
      if (this.concurrency.adaptive) this.concurrency.onSuccess(latencyMs, requestClassOf(job.costInput), this.running + 1);
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
  private retryDelay(job: Job, run: Run, kind: FailureKind, retryAfterMs: number | undefined, now: number): number | undefined {
    if (kind === 'ok' || kind === 'fatal' || kind === 'cancelled' || this.closed) return undefined;
    if (job.callerSignal?.aborted || run.attempts >= this.config.retry.maxAttempts) return undefined;
    const { baseDelay, maxDelay } = this.config.retry;
    // A limit 429 waits for the account's pause (at any length); others back off with jitter.
    const jitter = kind === 'limit' ? 0 : fullJitter(this.rng, run.attempts - 1, baseDelay, maxDelay);
    const delay = Math.max(retryAfterMs ?? 0, jitter);
    // A wait longer than the task may wait is not worth holding the caller for.
    if (delay > this.config.queue.maxWait && now + delay > job.deadline) return undefined;
    if (!this.retryBudget.tryRetry()) return undefined;
    return delay;
  }

  private retryLater(job: Job, delayMs: number, kind: FailureKind): void {
    this.metrics?.countRetry(kind);
    // The retry keeps its place in line (same priority and sequence) and may wait maxWait again (or to a later deadline of its own).
    job.deadline = Math.max(job.deadline, this.clock.now() + delayMs + this.config.queue.maxWait);
    job.defaultDeadline = false;
    if (delayMs <= 0) return this.enqueue(job, true);
    const timer = this.clock.setTimer(() => {
      this.retryWaits.delete(job);
      this.enqueue(job, true);
    }, delayMs);
    this.retryWaits.set(job, timer);
  }

  /** Ends a task that has run at least once with its last attempt's outcome. */
  private finish(job: Job): void {
    this.cleanup(job);
    const run = job.run!;
    const ok = run.lastKind === 'ok';
    this.metrics?.countTask(ok ? 'ok' : 'failed');
    // A fetch Response is the caller's to read even when it failed; a thrown error is rethrown.
    const delivered = ok || !run.lastThrown;
    if (job.reject) {
      if (delivered) job.resolve(run.last);
      else job.reject(run.last);
      return;
    }
    job.resolve({
      ok: delivered,
      value: run.lastThrown ? undefined : run.last,
      error: run.lastThrown ? run.last : undefined,
      attempts: run.attempts,
      queueMs: run.firstStartAt - job.scheduledAt,
      lastStatus: run.lastStatus,
      lastKind: run.lastKind,
    });
  }

  private shed(job: Job, reason: ShedReason, retryAfterMs?: number): void {
    this.cleanup(job);
    this.metrics?.countShed(reason);
    this.metrics?.countTask('shed');
    const run = job.run;
    const error = run?.lastThrown && reason === 'cancelled' ? run.last : new LimiterError(reason, retryAfterMs);
    if (job.reject) return job.reject(error);
    job.resolve({
      ok: false,
      error,
      attempts: run?.attempts ?? 0,
      queueMs: (run ? run.firstStartAt : this.clock.now()) - job.scheduledAt,
      lastStatus: run?.lastStatus,
      lastKind: run?.lastKind,
    });
  }

  private cleanup(job: Job): void {
    const extra = job.extra;
    if (extra?.onAbort) extra.callerSignal?.removeEventListener('abort', extra.onAbort);
  }
}

/** `createLimiter(config, { clock, store, registry, timeScale })`: config is validated (zod). */
export function createLimiter(config: LimiterConfigInput | LimiterConfig = {}, deps: LimiterDeps = {}): Limiter {
  return new Limiter(parseLimiterConfig(config), deps);
}
