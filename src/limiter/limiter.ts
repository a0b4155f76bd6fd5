import { realClock, type Clock } from '../core/clock.ts';
import { createTimeScale } from '../core/time-scale.ts';
import { CATALOGUE } from '../openai/catalogue.ts';
import type { CircuitState } from './circuit-breaker.ts';
import { parseLimiterConfig, type LimiterConfig, type LimiterConfigInput } from './config.ts';
import { imageCost, ONE_REQUEST, priceOf } from './cost.ts';
import { Dispatcher } from './dispatcher.ts';
import { Entry } from './entry.ts';
import { LimiterCore } from './limiter-core.ts';
import { MemoryStore } from './memory-store.ts';
import { createLimiterMetrics, type LimiterMetrics } from './metrics.ts';
import { scaleLimiterConfig } from './scale.ts';
import { isCost, priorityOf, Task } from './task.ts';
import { taskSpans } from './task-spans.ts';
import type { AttemptContext, Execution, LimiterDeps, LimiterState, ScheduleOptions } from './types.ts';

export { PRIORITIES, type AttemptContext, type Execution, type LimiterDeps, type LimiterState, type PriorityName, type ScheduleOptions, type StoreFactory } from './types.ts';

/**
 * The bundled limiter: a priority queue in front of budgets (RPM/IPM/TPM), a concurrency
 * limit, an account-wide pause, a circuit breaker and a spend guard, with retries that
 * classify each failure. Every task ends exactly once: a value, the provider's final error,
 * or a LimiterError saying why it was shed.
 *
 * This class is the door: it prices a new task, checks it at entry (`Entry`), hands it to
 * the `Dispatcher` (which admits it against the store and runs its attempts through the
 * `AttemptRunner`), and answers the read API. The parts they share live in `LimiterCore`.
 */
export class Limiter {
  readonly config: LimiterConfig;
  readonly metrics: LimiterMetrics | undefined;
  readonly name: string;
  private readonly core: LimiterCore;
  private readonly entry: Entry;
  private readonly dispatcher: Dispatcher;
  private seq = 0;

  constructor(config: LimiterConfig, deps: LimiterDeps = {}) {
    const clock = deps.clock ?? realClock;
    this.config = scaleLimiterConfig(config, createTimeScale(deps.timeScale ?? 1).factor);
    const store = deps.store ?? ((budgets: LimiterConfig['budgets'], clock: Clock) => new MemoryStore(budgets, clock.now()));
    const prices = Object.entries(this.config.spend.prices);
    const catalogue = (deps.catalogue ?? CATALOGUE).with(Object.fromEntries(prices.map(([id, p]) => [id, { prices: p }])), 'limiter config (spend.prices)');
    this.core = new LimiterCore(this.config, clock, typeof store === 'function' ? store(this.config.budgets, clock) : store, catalogue, deps.seed ?? 1);
    this.entry = new Entry(this.core);
    this.dispatcher = new Dispatcher(this.core);
    this.name = deps.name ?? 'default';
    this.core.tracer = deps.tracer;
    this.metrics = this.core.metrics = deps.registry ? createLimiterMetrics(deps.registry, this, deps.timeScale ?? 1) : undefined;
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
    const core = this.core;
    const now = core.clock.now();
    const priority = priorityOf(options.priority);
    const input = options.cost ?? ONE_REQUEST;
    const explicitCost = isCost(input);
    const maxWaitDeadline = now + this.config.queue.maxWait;
    const task = new Task(
      priority,
      this.seq++,
      fn,
      explicitCost ? input : imageCost(input, core.catalogue),
      explicitCost || !core.spend.enabled ? 0 : priceOf(input, core.catalogue),
      explicitCost ? undefined : input,
      options.deadline ?? Infinity,
      maxWaitDeadline,
      now,
      options.signal,
      resolve,
      reject,
    );
    if (core.tracer) {
      const spans = taskSpans(core.tracer, this.name, priority, now, options.traceContext);
      if (spans) task.extras.spans = spans;
    }
    core.retryBudget.onRequest();
    const refusal = this.entry.refusal(task, now);
    if (refusal) return core.shed(task, refusal.reason, refusal.retryAfterMs);
    const late = this.config.queue.refuseEarly ? this.entry.lateBy(task, now) : 0;
    if (late > 0) core.shed(task, 'deadline_unmeetable', late);
    else this.dispatcher.enqueue(task, false, now);
  }

  /** The limiter as it stands: circuit, queue, concurrency and budgets, so nothing outside reaches into them. */
  state(): LimiterState {
    const core = this.core;
    const now = core.clock.now();
    const circuit = core.circuit.stateAt(now);
    return {
      now,
      circuit,
      reopensInMs: circuit === 'open' ? Math.max(0, core.circuit.reopensAt() - now) : undefined,
      queued: core.queue.size,
      inFlight: core.running,
      concurrencyLimit: core.concurrency.current,
      store: core.store.snapshot(now),
      storeFallback: core.store.usingFallback === true,
    };
  }

  /** The circuit's state now (cheaper than `state()` when that is all a caller needs). */
  circuitState(): CircuitState {
    return this.core.circuit.stateAt(this.core.clock.now());
  }

  /** Now on the limiter's clock, the one `ScheduleOptions.deadline` is read on. */
  now(): number {
    return this.core.clock.now();
  }

  /** Tasks waiting for their turn. */
  get pending(): number {
    return this.core.queue.size;
  }

  /** Attempts running. */
  get inFlight(): number {
    return this.core.running;
  }

  queueDepthByPriority(): Map<number, number> {
    return this.core.queue.countByPriority();
  }

  spendUsed(): { usd: number; budget: number | undefined } {
    return { usd: this.core.spend.spentUsd(this.core.clock.now()), budget: this.config.spend.budget };
  }

  /** Refuses new tasks and sheds every queued one with `shutdown`; running attempts finish. */
  close(): void {
    const core = this.core;
    core.closed = true;
    this.dispatcher.stop();
    for (const task of core.queue.drain()) core.shed(task, 'shutdown');
    // A retry-after can be many minutes: a closing limiter does not wait for it.
    for (const [task, timer] of core.retryWaits) {
      timer.cancel();
      core.shed(task, 'shutdown');
    }
    core.retryWaits.clear();
  }
}

/** `createLimiter(config, { clock, store, registry, timeScale })`: config is validated (zod). */
export function createLimiter(config: LimiterConfigInput | LimiterConfig = {}, deps: LimiterDeps = {}): Limiter {
  return new Limiter(parseLimiterConfig(config), deps);
}
