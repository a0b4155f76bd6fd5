import { randomUUID } from 'node:crypto';
import { realClock, type Clock, type TimerHandle } from '../../core/clock.ts';
import { LazyFifo } from '../../core/lazy-fifo.ts';
import { PRIORITIES } from '../../limiter/limiter.ts';
import { PriorityQueue, type QueueEntry } from '../../limiter/priority-queue.ts';
import type { OpenAIErrorBody } from '../../openai/errors.ts';
import type { JobsConfig } from '../config.ts';
import { jobDeadlineError, nextRunDelay, runOutcome } from './run-outcome.ts';
import { TERMINAL, type JobBackend, type JobEvent, type JobInput, type JobListener, type JobObserver, type JobRunner, type JobView } from './types.ts';

interface JobRecord extends QueueEntry {
  view: JobView;
  input: JobInput;
  events: JobEvent[];
  listeners: Set<JobListener>;
  controller: AbortController;
  /** Epoch ms by which it must have run. */
  deadline: number;
  /** Pending wait before the job runs or queues again (after a refusal or a failure), and how to end it early. */
  timer: TimerHandle | undefined;
  wake: (() => void) | undefined;
  expiresAt: number;
}

const SHUTDOWN: OpenAIErrorBody = { message: 'The gateway shut down before this job finished; it was kept in memory only.', type: 'ratelab_gateway_error', param: null, code: 'shutdown' };

/**
 * Jobs in this process. They wait in a queue of their own, in priority then submission
 * order, and at most `concurrency` of them are handed to the limiter at once, each with the
 * job's own deadline (`maxWait`, hours, not a held connection's minutes). A run the gateway
 * turns away (queue full, deadline, circuit, spend budget) or that fails during an outage
 * waits for its retry-after and keeps its place and its attempts; only provider failures
 * count toward `maxAttempts`, after which the job lands in the dead-letter list. Finished
 * jobs stay readable for `resultTtl`. Nothing survives the process: on shutdown, jobs not
 * finished in the grace period fail with `shutdown` (use REDIS_URL for jobs that outlive a gateway).
 */
export class MemoryJobs implements JobBackend {
  readonly kind = 'memory';
  private readonly jobs = new Map<string, JobRecord>();
  private readonly finished = new LazyFifo<JobRecord>((r) => !this.jobs.has(r.view.id));
  private readonly dead = new Set<string>();
  private readonly waiting = new PriorityQueue<JobRecord>();
  private readonly running = new Set<Promise<void>>();
  private seq = 0;
  private closing = false;

  constructor(
    private readonly config: JobsConfig,
    private readonly runner: JobRunner,
    private readonly timeScale = 1,
    private readonly clock: Clock = realClock,
    private readonly observe: JobObserver = () => undefined,
  ) {}

  async submit(input: JobInput): Promise<JobView> {
    this.expire();
    const now = this.clock.now();
    const deadline = now + this.config.maxWait * this.timeScale;
    const view: JobView = {
      id: `job_${randomUUID()}`,
      object: 'ratelab.image_job',
      status: 'queued',
      created_at: Math.floor(now / 1000),
      client: input.client.name,
      priority: input.client.priority,
      attempts: 0,
      max_attempts: this.config.maxAttempts,
      dead_letter: false,
      deadline_at: Math.floor(deadline / 1000),
    };
    const record: JobRecord = {
      priority: PRIORITIES[input.client.priority],
      seq: this.seq++,
      index: -1,
      view,
      input,
      events: [],
      listeners: new Set(),
      controller: new AbortController(),
      deadline,
      timer: undefined,
      wake: undefined,
      expiresAt: Infinity,
    };
    this.jobs.set(view.id, record);
    this.emit(record, { type: 'queued', at: now });
    const submitted = { ...view };
    this.waiting.push(record);
    this.pump();
    return submitted;
  }

  async get(id: string): Promise<JobView | undefined> {
    this.expire();
    const r = this.jobs.get(id);
    return r ? { ...r.view } : undefined;
  }

  async history(id: string): Promise<JobEvent[]> {
    return [...(this.jobs.get(id)?.events ?? [])];
  }

  subscribe(id: string, listener: JobListener): () => void {
    const r = this.jobs.get(id);
    r?.listeners.add(listener);
    return () => r?.listeners.delete(listener);
  }

  async cancel(id: string): Promise<JobView | undefined> {
    const r = this.jobs.get(id);
    if (!r) return undefined;
    if (!TERMINAL.has(r.view.status)) {
      this.stop(r);
      this.end(r, 'cancelled', { type: 'cancelled', at: this.clock.now(), attempt: r.view.attempts || undefined });
      this.pump();
    }
    return { ...r.view };
  }

  async deadLetters(): Promise<{ id: string; client: string; error?: OpenAIErrorBody }[]> {
    return [...this.dead].flatMap((id) => {
      const r = this.jobs.get(id);
      return r ? [{ id, client: r.view.client, ...(r.view.error ? { error: r.view.error } : {}) }] : [];
    });
  }

  ready(): boolean {
    return !this.closing;
  }

  async waitReady(): Promise<void> {}

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const r of this.jobs.values()) {
      if (r.view.status === 'queued') this.fail(r, SHUTDOWN, 503);
    }
    if (this.running.size > 0) {
      await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    for (const r of this.jobs.values()) {
      if (!TERMINAL.has(r.view.status)) this.fail(r, SHUTDOWN, 503);
    }
  }

  /** Aborts the running call, takes the job out of the queue and ends a pending wait. */
  private stop(r: JobRecord): void {
    r.controller.abort();
    this.waiting.remove(r);
    r.timer?.cancel();
    r.timer = undefined;
    r.wake?.();
  }

  private fail(r: JobRecord, error: OpenAIErrorBody, status: number, deadLetter = false): void {
    this.stop(r);
    if (deadLetter) {
      r.view.dead_letter = true;
      this.dead.add(r.view.id);
    }
    this.end(r, 'failed', { type: 'failed', at: this.clock.now(), attempt: r.view.attempts || undefined, status, error }, error);
  }

  /** Hands waiting jobs to the limiter, best priority and oldest first, up to `concurrency` at once. */
  private pump(): void {
    while (!this.closing && this.running.size < this.config.concurrency) {
      const r = this.waiting.pop();
      if (!r) return;
      if (this.clock.now() > r.deadline) {
        this.fail(r, jobDeadlineError(r.view.error), 504, true);
        continue;
      }
      const run = this.run(r);
      this.running.add(run);
      void run.finally(() => {
        this.running.delete(run);
        this.pump();
      });
    }
  }

  /**
   * Runs until the job ends, or must wait long enough to give up its slot. A short wait (up
   * to jobs.lockDuration, as the circuit's openFor) holds the slot: back in the queue, while
   * the circuit is open, every job would take the slot in turn only to be turned away too.
   */
  private async run(r: JobRecord): Promise<void> {
    for (;;) {
      r.view.status = 'running';
      const attempt = r.view.attempts + 1;
      this.emit(r, { type: 'started', at: this.clock.now(), attempt });
      const answer = await this.runner(r.input, r.controller.signal, r.deadline, { id: r.view.id, attempt });
      if (TERMINAL.has(r.view.status)) return; // cancelled or shut down meanwhile
      const outcome = runOutcome(answer);
      const at = this.clock.now();
      if (outcome.kind === 'ok') {
        r.view.attempts = attempt;
        r.view.result = outcome.result;
        return this.end(r, 'succeeded', { type: 'succeeded', at, attempt, status: answer.status });
      }
      if (outcome.kind === 'fatal') {
        r.view.attempts = attempt;
        return this.end(r, 'failed', { type: 'failed', at, attempt, status: outcome.status, error: outcome.error }, outcome.error);
      }
      if (this.closing) return this.fail(r, SHUTDOWN, 503);
      if (outcome.kind === 'retry') {
        r.view.attempts = attempt;
        if (attempt >= this.config.maxAttempts) {
          r.view.dead_letter = true;
          this.dead.add(r.view.id);
          return this.end(r, 'failed', { type: 'failed', at, attempt, status: outcome.status, error: outcome.error }, outcome.error);
        }
      }
      const delay = nextRunDelay(outcome, attempt, this.config.backoff * this.timeScale);
      r.view.error = outcome.error;
      if (at + delay > r.deadline) return this.fail(r, jobDeadlineError(outcome.error), 504, true);
      r.view.status = 'queued';
      this.emit(r, { type: outcome.kind === 'retry' ? 'retried' : 'deferred', at, attempt, status: outcome.status, error: outcome.error, next_at: at + delay });
      if (delay > this.config.lockDuration * this.timeScale) {
        r.timer = this.clock.setTimer(() => {
          r.timer = undefined;
          // Back in line ahead of jobs submitted after it.
          this.waiting.pushReturning(r);
          this.pump();
        }, delay);
        return;
      }
      await new Promise<void>((resolve) => {
        r.wake = resolve;
        r.timer = this.clock.setTimer(resolve, delay);
      });
      r.timer = r.wake = undefined;
      if (TERMINAL.has(r.view.status)) return;
    }
  }

  private end(r: JobRecord, status: 'succeeded' | 'failed' | 'cancelled', event: JobEvent, error?: OpenAIErrorBody): void {
    r.view.status = status;
    if (error) r.view.error = error;
    else if (status !== 'failed') delete r.view.error;
    r.expiresAt = this.clock.now() + this.config.resultTtl;
    this.finished.push(r);
    this.emit(r, event);
    r.listeners.clear();
  }

  private emit(r: JobRecord, event: JobEvent): void {
    r.events.push(event);
    this.observe(event);
    for (const listener of r.listeners) listener(event);
  }

  /** Finished jobs leave after their TTL; they end in TTL order, so the oldest are at the front. */
  private expire(): void {
    const now = this.clock.now();
    for (let r = this.finished.peek(); r && r.expiresAt <= now; r = this.finished.peek()) {
      this.finished.shift();
      this.jobs.delete(r.view.id);
      this.dead.delete(r.view.id);
    }
  }
}
