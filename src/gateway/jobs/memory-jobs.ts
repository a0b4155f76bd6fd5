import { randomUUID } from 'node:crypto';
import { realClock, type Clock, type TimerHandle } from '../../core/clock.ts';
import { LazyFifo } from '../../core/lazy-fifo.ts';
import type { OpenAIErrorBody } from '../../openai/errors.ts';
import type { JobsConfig } from '../config.ts';
import { runOutcome } from './outcome.ts';
import { TERMINAL, type JobBackend, type JobEvent, type JobInput, type JobListener, type JobObserver, type JobRunner, type JobView } from './types.ts';

interface Record {
  view: JobView;
  input: JobInput;
  events: JobEvent[];
  listeners: Set<JobListener>;
  controller: AbortController;
  /** Pending backoff before the next run, and how to end it early (cancel, shutdown). */
  timer: TimerHandle | undefined;
  wake: (() => void) | undefined;
  expiresAt: number;
}

const SHUTDOWN: OpenAIErrorBody = { message: 'The gateway shut down before this job finished; it was kept in memory only.', type: 'ratelab_gateway_error', param: null, code: 'shutdown' };

/**
 * Jobs in this process: each runs through the limiter (the sync path), up to `maxAttempts`
 * runs with exponential backoff, then lands in the dead-letter list. Finished jobs stay
 * readable for `resultTtl`. Nothing survives the process: on shutdown, jobs not finished in
 * the grace period fail with `shutdown` (use REDIS_URL for jobs that outlive a gateway).
 */
export class MemoryJobs implements JobBackend {
  readonly kind = 'memory';
  private readonly jobs = new Map<string, Record>();
  private readonly finished = new LazyFifo<Record>((r) => !this.jobs.has(r.view.id));
  private readonly dead = new Set<string>();
  private readonly running = new Set<Promise<void>>();
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
    };
    const record: Record = { view, input, events: [], listeners: new Set(), controller: new AbortController(), timer: undefined, wake: undefined, expiresAt: Infinity };
    this.jobs.set(view.id, record);
    this.emit(record, { type: 'queued', at: now });
    const submitted = { ...view };
    this.track(this.run(record));
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
      if (r.view.status === 'queued') {
        this.stop(r);
        this.end(r, 'failed', { type: 'failed', at: this.clock.now(), status: 503, error: SHUTDOWN }, SHUTDOWN);
      }
    }
    if (this.running.size > 0) {
      await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    for (const r of this.jobs.values()) {
      if (!TERMINAL.has(r.view.status)) {
        this.stop(r);
        this.end(r, 'failed', { type: 'failed', at: this.clock.now(), status: 503, error: SHUTDOWN }, SHUTDOWN);
      }
    }
  }

  /** Aborts the running call and ends a pending backoff. */
  private stop(r: Record): void {
    r.controller.abort();
    r.timer?.cancel();
    r.wake?.();
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async run(r: Record): Promise<void> {
    for (;;) {
      if (TERMINAL.has(r.view.status)) return;
      r.view.attempts++;
      r.view.status = 'running';
      const attempt = r.view.attempts;
      this.emit(r, { type: 'started', at: this.clock.now(), attempt });
      const answer = await this.runner(r.input, r.controller.signal);
      if (TERMINAL.has(r.view.status)) return; // cancelled or shut down meanwhile
      const outcome = runOutcome(answer);
      const at = this.clock.now();
      if (outcome.kind === 'ok') {
        r.view.result = outcome.result;
        return this.end(r, 'succeeded', { type: 'succeeded', at, attempt, status: answer.status });
      }
      const last = attempt >= this.config.maxAttempts;
      if (outcome.kind === 'fatal' || last || this.closing) {
        if (outcome.kind === 'retry' && last) {
          r.view.dead_letter = true;
          this.dead.add(r.view.id);
        }
        return this.end(r, 'failed', { type: 'failed', at, attempt, status: outcome.status, error: outcome.error }, outcome.error);
      }
      r.view.status = 'queued';
      this.emit(r, { type: 'retried', at, attempt, status: outcome.status, error: outcome.error });
      const delay = this.config.backoff * this.timeScale * 2 ** (attempt - 1);
      await new Promise<void>((resolve) => {
        r.wake = resolve;
        r.timer = this.clock.setTimer(resolve, delay);
      });
      r.timer = r.wake = undefined;
    }
  }

  private end(r: Record, status: 'succeeded' | 'failed' | 'cancelled', event: JobEvent, error?: OpenAIErrorBody): void {
    r.view.status = status;
    if (error) r.view.error = error;
    r.expiresAt = this.clock.now() + this.config.resultTtl;
    this.finished.push(r);
    this.emit(r, event);
    r.listeners.clear();
  }

  private emit(r: Record, event: JobEvent): void {
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
