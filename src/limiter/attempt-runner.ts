import type { Clock } from '../core/clock.ts';
import { fullJitter } from './backoff.ts';
import { classify, type FailureKind } from './classify.ts';
import type { LimiterConfig } from './config.ts';
import type { LimiterCore } from './limiter-core.ts';
import { isPlainSuccess, needsErrorBody, observeError, observeValue, withErrorBody, type Observed } from './outcome.ts';
import type { LimiterStore } from './store.ts';
import { Attempts, requestClassOf, type Task } from './task.ts';

/** Weight of one sample in the mean latency: about the last 20 answers. */
const LATENCY_SMOOTHING = 0.05;

/** What an attempt's end hands back to the dispatcher: a freed slot, or a retry to queue. */
export interface Requeue {
  dispatch(now?: number): void;
  enqueue(task: Task, returning: boolean, now?: number): void;
}

/**
 * Runs one attempt of an admitted task and acts on how it ended: classifies the outcome,
 * gives the store back what the call did not use, teaches the concurrency limit and the
 * circuit, pauses the account on a limit 429, and either ends the task or queues its retry.
 */
export class AttemptRunner {
  private readonly clock: Clock;
  private readonly store: LimiterStore;
  private readonly config: LimiterConfig;

  constructor(
    private readonly core: LimiterCore,
    private readonly requeue: Requeue,
  ) {
    this.clock = core.clock;
    this.store = core.store;
    this.config = core.config;
  }

  async attempt(task: Task, lease: string, startedAt: number, probe: boolean): Promise<void> {
    const core = this.core;
    let run = task.run;
    if (run === undefined) {
      run = task.run = new Attempts(startedAt);
      core.metrics?.observeWait((startedAt - task.scheduledAt) / 1000);
    }
    run.attempts++;
    core.running++;
    task.resetAttempt();
    const spans = task.extra?.spans;
    spans?.started(run.attempts, startedAt, startedAt - task.scheduledAt, core.lastWait);
    if (this.config.retry.attemptTimeout !== undefined) this.armTimeout(task, this.config.retry.attemptTimeout);
    let observed: Observed;
    try {
      run.last = await (spans ? spans.run(() => task.fn(task)) : task.fn(task));
      run.lastThrown = false;
      if (task.extra === undefined && isPlainSuccess(run.last)) {
        core.running--;
        return this.succeeded(task, run, lease, startedAt, probe);
      }
      observed = observeValue(run.last);
      if (needsErrorBody(observed, run.last)) observed = await withErrorBody(observed, run.last);
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
    core.running--;
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
    this.core.metrics?.countAttempt('ok');
    run.lastStatus = undefined;
    run.lastKind = 'ok';
    void this.store.release(lease, undefined, task.cost, now);
    this.learn('ok', now - startedAt, task, now, probe);
    this.core.finish(task);
    this.requeue.dispatch(now);
  }

  private afterAttempt(task: Task, run: Attempts, lease: string, startedAt: number, observed: Observed, probe: boolean): void {
    const core = this.core;
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
    core.metrics?.countAttempt(kind);
    run.lastStatus = observed.status;
    run.lastKind = kind;
    extra?.spans?.attemptEnded({ status: observed.status, kind, retryAfterMs, headers: observed.headers }, now);
    const actual = observed.outputTokens !== undefined ? { tpm: observed.outputTokens + (observed.inputTokens ?? 0) } : undefined;
    if (observed.headers && this.config.budgets.syncFromHeaders) void this.store.syncFromHeaders(observed.headers, now);
    void this.store.release(lease, actual, task.cost, now);
    if (kind !== 'ok' && task.price > 0) core.spend.release(task.price, now);
    this.learn(kind, now - startedAt, task, now, probe);
    if (kind === 'limit') void this.store.pause(now + (retryAfterMs ?? 1000));
    const retry = kind === 'ok' ? undefined : this.retryDelay(task, run, kind, retryAfterMs, now);
    if (retry === undefined) core.finish(task);
    else this.retryLater(task, retry, kind);
    this.requeue.dispatch(now);
  }

  private learn(kind: FailureKind, latencyMs: number, task: Task, now: number, probe: boolean): void {
    const core = this.core;
    if (kind === 'ok') {
      core.meanLatencyMs = core.meanLatencyMs === 0 ? latencyMs : core.meanLatencyMs + (latencyMs - core.meanLatencyMs) * LATENCY_SMOOTHING;
      if (core.concurrency.adaptive) core.concurrency.onSuccess(latencyMs, requestClassOf(task.costInput), core.running + 1);
      core.circuit.record(true, now, now - latencyMs);
      return;
    }
    if (kind === 'server') {
      core.circuit.record(false, now);
      core.concurrency.onContention();
      return;
    }
    if (kind === 'contention') {
      core.concurrency.onContention();
      if (core.circuit.recordContention(now)) return;
    }
    if (probe) core.circuit.releaseProbe();
  }

  /** ms to wait before the next attempt, or undefined to stop here. */
  private retryDelay(task: Task, run: Attempts, kind: FailureKind, retryAfterMs: number | undefined, now: number): number | undefined {
    if (kind === 'ok' || kind === 'fatal' || kind === 'cancelled' || this.core.closed) return undefined;
    if (task.callerSignal?.aborted || run.attempts >= this.config.retry.maxAttempts) return undefined;
    const { baseDelay, maxDelay } = this.config.retry;
    // A limit 429 waits for the account's pause (at any length); others back off with jitter.
    const jitter = kind === 'limit' ? 0 : fullJitter(this.core.rng, run.attempts - 1, baseDelay, maxDelay);
    const delay = Math.max(retryAfterMs ?? 0, jitter);
    // A wait longer than the task may wait is not worth holding the caller for.
    if (delay > this.config.queue.maxWait && now + delay > task.deadline) return undefined;
    if (!this.core.retryBudget.tryRetry()) return undefined;
    return delay;
  }

  private retryLater(task: Task, delayMs: number, kind: FailureKind): void {
    this.core.metrics?.countRetry(kind);
    task.extra?.spans?.retrying(this.clock.now());
    // The retry keeps its place in line (same priority and sequence) and may wait maxWait again (or to a later deadline of its own).
    task.deadline = Math.max(task.deadline, this.clock.now() + delayMs + this.config.queue.maxWait);
    task.defaultDeadline = false;
    if (delayMs <= 0) return this.requeue.enqueue(task, true);
    const timer = this.clock.setTimer(() => {
      this.core.retryWaits.delete(task);
      this.requeue.enqueue(task, true);
    }, delayMs);
    this.core.retryWaits.set(task, timer);
  }
}
