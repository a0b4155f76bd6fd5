import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { OpenAIErrorBody } from '../../openai/errors.ts';
import { PRIORITIES } from '../../limiter/limiter.ts';
import { connectRedis, type RedisConnection } from '../../limiter/redis-connection.ts';
import { hashTagged, isClusterUrl } from '../../limiter/redis-url.ts';
import type { JobsConfig } from '../config.ts';
import { jobDeadlineError, nextRunDelay, runOutcome } from './run-outcome.ts';
import { TERMINAL, type Durability, type JobBackend, type JobEvent, type JobInput, type JobListener, type JobObserver, type JobRunner, type JobStatus, type JobView } from './types.ts';

/** How a job failed; `dead`: after its last attempt or past its deadline, so it goes to the dead-letter queue. */
type Failure = { status: number; error: OpenAIErrorBody; dead?: boolean };

/** A job as kept in Redis: the request, the provider-counted attempts so far, and its deadline (epoch ms). */
type JobData = JobInput & { attempts: number; maxAttempts: number; deadline: number };

const CANCELLED = 'cancelled';

const parseFailure = (reason: string | undefined): Failure | undefined => {
  try {
    return JSON.parse(reason ?? '') as Failure;
  } catch {
    return reason ? { status: 500, error: { message: reason, type: 'ratelab_gateway_error', param: null, code: 'job_failed' } } : undefined;
  }
};

/**
 * Jobs in Redis through BullMQ, shared by every gateway on that Redis: any replica's worker
 * runs them (through its own limiter), a replica that dies has its jobs taken over once
 * their lock expires, and a job that fails `maxAttempts` runs is copied to the `dead`
 * queue. Events go to every replica over Redis pub/sub (so a client may watch a job on
 * any replica) and are kept in the job's log for late subscribers.
 */
export class BullmqJobs implements JobBackend {
  readonly kind = 'bullmq';
  private readonly conn: RedisConnection;
  private readonly pub: RedisConnection;
  private readonly sub: RedisConnection;
  /** BullMQ's key prefix: on a Redis Cluster, jobs.prefix in a hash tag. */
  private readonly prefix: string;
  private readonly queue: Queue<JobData>;
  private readonly dead: Queue<JobData & { failure?: Failure }>;
  private readonly worker: Worker<JobData>;
  private readonly listeners = new Map<string, Set<JobListener>>();
  /** Jobs this replica is running, to abort on a cancel from any replica. */
  private readonly active = new Map<string, AbortController>();
  private readonly channel: { events: string; cancel: string };
  private closing = false;
  private durable: Durability | 'unknown' | undefined;

  constructor(
    redisUrl: string,
    private readonly config: JobsConfig,
    private readonly runner: JobRunner,
    private readonly timeScale = 1,
    private readonly observe: JobObserver = () => undefined,
    /** Told each time Redis's durability is read (on connect and every reconnect). */
    private readonly onDurability: (d: Durability | 'unknown') => void = () => undefined,
  ) {
    const options = { maxRetriesPerRequest: null, lazyConnect: false } as const;
    this.conn = connectRedis(redisUrl, options);
    this.pub = connectRedis(redisUrl, options);
    this.sub = connectRedis(redisUrl, options);
    // Unreachable Redis is reported by /readyz; ioredis reconnects by itself.
    for (const c of [this.conn, this.pub, this.sub]) c.on('error', () => undefined);
    // A Redis that restarted may have come back with other settings: read them on every (re)connect.
    this.conn.on('ready', () => void this.readDurability());
    // A queue's scripts touch many of its keys at once: on a cluster they must share a slot.
    // One Redis keeps the plain prefix, so jobs already in it are still found after an upgrade.
    const prefix = isClusterUrl(redisUrl) ? hashTagged(config.prefix) : config.prefix;
    this.prefix = prefix;
    this.channel = { events: `${prefix}:images:events`, cancel: `${prefix}:images:cancel` };
    this.queue = new Queue('images', { connection: this.conn, prefix });
    this.dead = new Queue('images-dead', { connection: this.conn, prefix });
    this.worker = new Worker('images', (job, token) => this.process(job, token), {
      connection: this.conn,
      prefix,
      concurrency: config.concurrency,
      lockDuration: config.lockDuration,
      stalledInterval: config.lockDuration,
      // A job taken over after a crash is not a failure of the job: let it survive several.
      maxStalledCount: 10,
    });
    this.worker.on('error', () => undefined);
    this.worker.on('completed', (job) => void this.publish(job.id!, { type: 'succeeded', at: job.finishedOn ?? Date.now(), attempt: this.dataOf(job).attempts, status: 200 }));
    this.worker.on('failed', (job, err) => {
      if (job) void this.onFailed(job, err);
    });
    void this.sub.subscribe(this.channel.events, this.channel.cancel).catch(() => undefined);
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  async submit(input: JobInput): Promise<JobView> {
    const id = `job_${randomUUID()}`;
    const ttlSeconds = Math.ceil(this.config.resultTtl / 1000);
    const data: JobData = { ...input, attempts: 0, maxAttempts: this.config.maxAttempts, deadline: Date.now() + this.config.maxWait * this.timeScale };
    // Runs are counted here, not by BullMQ: a refusal waits (moveToDelayed) without spending one, and a provider's retry-after sets the wait.
    const job = await this.queue.add('generate', data, {
      jobId: id,
      priority: 1 + PRIORITIES[input.client.priority],
      attempts: 1,
      removeOnComplete: { age: ttlSeconds },
      removeOnFail: { age: ttlSeconds },
    });
    void this.publish(id, { type: 'queued', at: job.timestamp });
    return this.viewOf(job, 'queued', undefined);
  }

  /**
   * A live job and its state, or undefined when it is gone. State first, then the job's data:
   * the data is then at least as new as the state (a job read before it failed would show
   * `failed` without its reason).
   */
  private async read(id: string) {
    const state = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    return job && state !== 'unknown' ? { job, state } : undefined;
  }

  async get(id: string): Promise<JobView | undefined> {
    const live = await this.read(id);
    if (!live) return this.tombstone(id);
    const { job, state } = live;
    return this.viewOf(job, this.statusOf(job, state), state === 'failed' ? await this.dead.getJob(id) : undefined);
  }

  async history(id: string): Promise<JobEvent[]> {
    const live = await this.read(id);
    if (!live) {
      const gone = await this.tombstone(id);
      return gone ? [{ type: 'queued', at: gone.created_at * 1000 }, { type: 'cancelled', at: Date.now() }] : [];
    }
    const { job, state } = live;
    const { logs } = await this.queue.getJobLogs(id);
    const events: JobEvent[] = [{ type: 'queued', at: job.timestamp }];
    for (const line of logs) {
      try {
        events.push(JSON.parse(line) as JobEvent);
      } catch {
        // a log line that is not ours
      }
    }
    const status = this.statusOf(job, state);
    if (TERMINAL.has(status)) events.push(this.terminalEvent(job, status));
    return events;
  }

  subscribe(id: string, listener: JobListener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  async cancel(id: string): Promise<JobView | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return this.tombstone(id);
    const state = await job.getState();
    if (TERMINAL.has(this.statusOf(job, state))) return this.get(id);
    if (state !== 'active') {
      try {
        await job.remove();
        const view = { ...this.viewOf(job, 'cancelled', undefined) };
        await this.conn.set(this.tombstoneKey(id), JSON.stringify(view), 'PX', this.config.resultTtl);
        void this.publish(id, { type: 'cancelled', at: Date.now() });
        return view;
      } catch {
        // It became active meanwhile: cancel it where it runs.
      }
    }
    await this.pub.publish(this.channel.cancel, id);
    for (let i = 0; i < 50; i++) {
      const view = await this.get(id);
      if (!view || TERMINAL.has(view.status)) return view;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.get(id);
  }

  async deadLetters(): Promise<{ id: string; client: string; error?: OpenAIErrorBody }[]> {
    const jobs = await this.dead.getJobs(['waiting', 'prioritized', 'delayed', 'paused'], 0, 999);
    return jobs.map((j) => ({ id: j.id!, client: j.data.client.name, ...(j.data.failure ? { error: j.data.failure.error } : {}) }));
  }

  ready(): boolean {
    return !this.closing && this.conn.status === 'ready';
  }

  durability(): Durability | 'unknown' | undefined {
    return this.durable;
  }

  private async readDurability(): Promise<void> {
    try {
      const [, appendonly] = (await this.conn.config('GET', 'appendonly')) as [string, string];
      const [, maxmemoryPolicy] = (await this.conn.config('GET', 'maxmemory-policy')) as [string, string];
      this.durable = { persists: appendonly === 'yes', evicts: maxmemoryPolicy !== 'noeviction', appendonly, maxmemoryPolicy };
    } catch {
      // Managed Redis often refuses CONFIG: unknown, said as such.
      this.durable = 'unknown';
    }
    this.onDurability(this.durable);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const connected = Promise.all([this.queue.waitUntilReady(), this.worker.waitUntilReady()]).then(() => undefined);
    await Promise.race([connected.catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /**
   * Stops fetching jobs; jobs whose limiter turns them away at shutdown are handed back to
   * Redis (not counted as a failed run); running calls get `graceMs` to finish, after which
   * their lock expires and another gateway takes them over.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const closed = this.worker.close();
    const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref())]);
    if (timedOut) await this.worker.close(true);
    await Promise.allSettled([this.queue.close(), this.dead.close()]);
    for (const c of [this.sub, this.pub, this.conn]) c.disconnect();
  }

  /**
   * A job's data, with what a gateway before jobs.maxWait did not store filled in (its jobs
   * may still be in Redis after an upgrade): no attempts counted, today's limits.
   */
  private dataOf(job: Job<JobData>): JobData {
    const d = job.data;
    if (d.attempts !== undefined && d.maxAttempts !== undefined && d.deadline !== undefined) return d;
    return { ...d, attempts: d.attempts ?? 0, maxAttempts: d.maxAttempts ?? this.config.maxAttempts, deadline: d.deadline ?? job.timestamp + this.config.maxWait * this.timeScale };
  }

  private async process(job: Job<JobData>, token: string | undefined): Promise<unknown> {
    const id = job.id!;
    const data = this.dataOf(job);
    const controller = new AbortController();
    this.active.set(id, controller);
    try {
      if (Date.now() > data.deadline) throw new UnrecoverableError(JSON.stringify({ status: 504, error: jobDeadlineError(undefined), dead: true } satisfies Failure));
      const attempt = data.attempts + 1;
      await this.record(job, { type: 'started', at: Date.now(), attempt });
      const answer = await this.runner(data, controller.signal, data.deadline, { id, attempt });
      if (controller.signal.aborted) throw new UnrecoverableError(CANCELLED);
      const outcome = runOutcome(answer);
      if (outcome.kind === 'ok' || outcome.kind === 'fatal') await job.updateData({ ...data, attempts: attempt });
      if (outcome.kind === 'ok') return outcome.result;
      if (outcome.kind === 'fatal') throw new UnrecoverableError(JSON.stringify({ status: outcome.status, error: outcome.error } satisfies Failure));
      if (this.closing && outcome.error.code === 'shutdown') {
        // This gateway is going away: give the job back for the next one, without spending a run.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const now = Date.now();
      const attempts = outcome.kind === 'retry' ? attempt : data.attempts;
      if (outcome.kind === 'retry' && attempts >= data.maxAttempts) {
        await job.updateData({ ...data, attempts });
        throw new UnrecoverableError(JSON.stringify({ status: outcome.status, error: outcome.error, dead: true } satisfies Failure));
      }
      const delay = nextRunDelay(outcome, attempt, this.config.backoff * this.timeScale);
      if (now + delay > data.deadline) {
        await job.updateData({ ...data, attempts });
        throw new UnrecoverableError(JSON.stringify({ status: 504, error: jobDeadlineError(outcome.error), dead: true } satisfies Failure));
      }
      if (attempts !== data.attempts) await job.updateData({ ...data, attempts });
      await this.record(job, { type: outcome.kind === 'retry' ? 'retried' : 'deferred', at: now, attempt, status: outcome.status, error: outcome.error, next_at: now + delay });
      if (delay <= this.config.lockDuration * this.timeScale && !this.closing) {
        // A short wait (a circuit's openFor) is waited here, holding the job and its lock: back
        // in Redis it would queue behind every job submitted since, in BullMQ's order.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          controller.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (controller.signal.aborted) throw new UnrecoverableError(CANCELLED);
        return this.process(job, token);
      }
      await job.moveToDelayed(now + delay, token);
      throw new DelayedError();
    } finally {
      this.active.delete(id);
    }
  }

  private async onFailed(job: Job<JobData>, err: Error): Promise<void> {
    const id = job.id!;
    if (err.message === CANCELLED) return this.publish(id, { type: 'cancelled', at: Date.now(), attempt: this.dataOf(job).attempts || undefined });
    const failure = parseFailure(err.message);
    // Same id in the dead queue: a second replica reporting the same failure adds nothing.
    if (failure?.dead) await this.dead.add('dead', { ...job.data, failure }, { jobId: id }).catch(() => undefined);
    await this.publish(id, { type: 'failed', at: job.finishedOn ?? Date.now(), attempt: this.dataOf(job).attempts || undefined, status: failure?.status, error: failure?.error });
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.channel.cancel) {
      this.active.get(message)?.abort();
      return;
    }
    let parsed: { id: string; event: JobEvent };
    try {
      parsed = JSON.parse(message) as { id: string; event: JobEvent };
    } catch {
      return;
    }
    for (const listener of this.listeners.get(parsed.id) ?? []) listener(parsed.event);
  }

  /** Kept in the job's log (for late subscribers) and sent to every replica. */
  private async record(job: Job<JobData>, event: JobEvent): Promise<void> {
    await job.log(JSON.stringify(event)).catch(() => undefined);
    await this.publish(job.id!, event);
  }

  private async publish(id: string, event: JobEvent): Promise<void> {
    this.observe(event);
    await this.pub.publish(this.channel.events, JSON.stringify({ id, event })).catch(() => undefined);
  }

  private statusOf(job: Job<JobData>, state: string): JobStatus {
    if (state === 'completed') return 'succeeded';
    if (state === 'failed') return job.failedReason === CANCELLED ? 'cancelled' : 'failed';
    if (state === 'active') return 'running';
    return 'queued';
  }

  private terminalEvent(job: Job<JobData>, status: JobStatus): JobEvent {
    const at = job.finishedOn ?? Date.now();
    const attempt = this.dataOf(job).attempts || undefined;
    if (status === 'succeeded') return { type: 'succeeded', at, attempt, status: 200 };
    if (status === 'cancelled') return { type: 'cancelled', at, attempt };
    const failure = parseFailure(job.failedReason);
    return { type: 'failed', at, attempt, status: failure?.status, error: failure?.error };
  }

  private viewOf(job: Job<JobData>, status: JobStatus, dead: Job | undefined): JobView {
    const failure = status === 'failed' ? parseFailure(job.failedReason) : undefined;
    return {
      id: job.id!,
      object: 'ratelab.image_job',
      status,
      created_at: Math.floor(job.timestamp / 1000),
      client: job.data.client.name,
      priority: job.data.client.priority,
      attempts: this.dataOf(job).attempts,
      max_attempts: this.dataOf(job).maxAttempts,
      ...(status === 'succeeded' ? { result: job.returnvalue } : {}),
      ...(failure ? { error: failure.error } : {}),
      dead_letter: dead !== undefined,
      deadline_at: Math.floor(this.dataOf(job).deadline / 1000),
    };
  }

  private tombstoneKey(id: string): string {
    return `${this.prefix}:images:cancelled:${id}`;
  }

  private async tombstone(id: string): Promise<JobView | undefined> {
    const text = await this.conn.get(this.tombstoneKey(id));
    return text ? (JSON.parse(text) as JobView) : undefined;
  }
}
