import type { Clock, TimerHandle } from '../core/clock.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { ShedReason } from '../metrics/catalogue.ts';
import type { Catalogue } from '../openai/catalogue.ts';
import { RetryBudget } from './backoff.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createConcurrencyLimit, type ConcurrencyLimit } from './concurrency.ts';
import type { LimiterConfig } from './config.ts';
import { Deadlines } from './deadlines.ts';
import { LimiterError } from './errors.ts';
import type { LimiterMetrics } from './metrics.ts';
import { PriorityQueue } from './priority-queue.ts';
import { SpendGuard } from './spend-guard.ts';
import type { LimiterStore } from './store.ts';
import type { Task } from './task.ts';
import type { Tracer } from '@opentelemetry/api';
import type { WaitReason } from './task-spans.ts';

/**
 * What the limiter's rooms share: its parts (queue, store, concurrency, circuit, spend,
 * retry budget, clock), the tallies several rooms read and write (attempts running, the
 * mean latency, closed), and the two ways a task ends. The rooms (`Limiter` at the door,
 * `Dispatcher`, `AttemptRunner`) keep their own references to the parts they use, so the
 * hot path reads a field rather than `core.part`.
 */
export class LimiterCore {
  readonly queue = new PriorityQueue<Task>();
  readonly concurrency: ConcurrencyLimit;
  readonly circuit: CircuitBreaker;
  readonly retryBudget: RetryBudget;
  readonly rng: Rng;
  readonly spend: SpendGuard;
  readonly deadlines: Deadlines<Task>;
  /** Tasks waiting out a backoff or retry-after before they queue again, with that timer. */
  readonly retryWaits = new Map<Task, TimerHandle>();
  /** Set once by the limiter, after the core (its gauges read the limiter). */
  metrics: LimiterMetrics | undefined = undefined;
  /** Attempts running now. */
  running = 0;
  /** Moving average of successful attempts' latency (ms; 0 before the first): with the concurrency limit, the service rate. */
  meanLatencyMs = 0;
  closed = false;
  /** For the tasks' spans (LimiterDeps.tracer); undefined: no spans. */
  tracer: Tracer | undefined = undefined;
  /** What last held the head of the queue: the reason a task that waited only behind others gives. */
  lastWait: WaitReason | undefined = undefined;

  constructor(
    readonly config: LimiterConfig,
    readonly clock: Clock,
    readonly store: LimiterStore,
    readonly catalogue: Catalogue,
    seed: number,
  ) {
    this.concurrency = createConcurrencyLimit(config.concurrency);
    this.circuit = new CircuitBreaker(config.circuit);
    this.retryBudget = new RetryBudget(config.retry.budgetRatio, config.retry.budgetMinimum);
    this.rng = createRng(seed).fork('backoff');
    this.spend = new SpendGuard(config.spend);
    this.deadlines = new Deadlines(clock, (task) => {
      if (this.queue.remove(task)) this.shed(task, 'deadline_exceeded');
    });
  }

  /** Ends a task that has run at least once with its last attempt's outcome. */
  finish(task: Task): void {
    this.cleanup(task);
    task.extra?.spans?.ended(this.clock.now(), this.lastWait);
    this.metrics?.countTask(task.run!.lastKind === 'ok' ? 'ok' : 'failed');
    task.settle();
  }

  /** Ends a task without (another) attempt, saying why. */
  shed(task: Task, reason: ShedReason, retryAfterMs?: number): void {
    this.cleanup(task);
    task.extra?.spans?.ended(this.clock.now(), this.lastWait, reason);
    this.metrics?.countShed(reason);
    this.metrics?.countTask('shed');
    const run = task.run;
    task.settleShed(run?.lastThrown && reason === 'cancelled' ? run.last : new LimiterError(reason, retryAfterMs), this.clock.now());
  }

  /** Stops a task's wait for its next attempt; returns whether it was waiting. */
  endRetryWait(task: Task): boolean {
    const timer = this.retryWaits.get(task);
    if (!timer) return false;
    timer.cancel();
    this.retryWaits.delete(task);
    return true;
  }

  private cleanup(task: Task): void {
    const extra = task.extra;
    if (extra?.onAbort) extra.callerSignal?.removeEventListener('abort', extra.onAbort);
  }
}
