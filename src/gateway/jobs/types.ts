import type { ImageRequest } from '../../openai/request.ts';
import type { OpenAIErrorBody } from '../../openai/errors.ts';
import type { GatewayClient } from '../clients.ts';
import type { JobRun } from './run-outcome.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
/** `deferred`: the gateway turned a run away (or the upstreams were out); the job waits and keeps its attempts. `retried`: the provider failed a run. */
export const JOB_EVENT_TYPES = ['queued', 'started', 'deferred', 'retried', 'succeeded', 'failed', 'cancelled'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const TERMINAL: ReadonlySet<JobEventType | JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export interface JobEvent {
  type: JobEventType;
  /** Epoch ms. */
  at: number;
  /** Which run of the job (1-based) the event belongs to. */
  attempt?: number;
  /** HTTP status of the run's answer (upstream's, or the gateway's refusal). */
  status?: number;
  error?: OpenAIErrorBody;
  /** deferred, retried: epoch ms of the next run at the earliest. */
  next_at?: number;
}

/** What GET /v1/jobs/:id answers. */
export interface JobView {
  id: string;
  object: 'ratelab.image_job';
  status: JobStatus;
  /** Epoch seconds, like OpenAI's `created`. */
  created_at: number;
  client: string;
  priority: GatewayClient['priority'];
  /** Runs the provider answered or failed (runs the gateway turned away do not count). */
  attempts: number;
  max_attempts: number;
  /** The provider's images response, once succeeded. */
  result?: unknown;
  error?: OpenAIErrorBody;
  /** Failed after its last attempt, or not run by its deadline: kept in the dead-letter queue. */
  dead_letter: boolean;
  /** Epoch seconds by which it must have run (created_at + jobs.maxWait), else it fails with `job_deadline_exceeded`. */
  deadline_at: number;
}

export interface JobInput {
  /** The validated request body, as the client sent it. */
  body: string;
  image: ImageRequest;
  client: GatewayClient;
  /** The submitting request's W3C trace context (`traceparent`, `tracestate`), when it was traced: every run of the job continues that trace, on any replica. */
  trace?: Record<string, string>;
}

/** Which job a run is of, and which run (1-based). */
export interface JobRunOf {
  id: string;
  attempt: number;
}

/** One run of a job through the limiter to a provider (the gateway's sync path), to start by `deadline` (epoch ms). */
export type JobRunner = (input: JobInput, signal: AbortSignal, deadline: number, run: JobRunOf) => Promise<JobRun>;

export type JobListener = (event: JobEvent) => void;

/** Told of every event where it happens (once across replicas): for metrics. */
export type JobObserver = (event: JobEvent) => void;

/** Whether the job store keeps what it is given: read from Redis on connect and reconnect. */
export interface Durability {
  /** appendonly yes: every write is logged, a restart loses nothing (with appendfsync always, not even the last second). */
  persists: boolean;
  /** maxmemory-policy other than noeviction: Redis may drop jobs under memory pressure. */
  evicts: boolean;
  appendonly: string;
  maxmemoryPolicy: string;
}

/** Where async jobs live: this process (memory) or Redis through BullMQ. */
export interface JobBackend {
  /** Redis's durability as last read: `unknown` when Redis refused CONFIG GET, undefined before the first read (or in memory). */
  durability?(): Durability | 'unknown' | undefined;
  readonly kind: 'memory' | 'bullmq';
  submit(input: JobInput): Promise<JobView>;
  get(id: string): Promise<JobView | undefined>;
  /** Events so far, oldest first. */
  history(id: string): Promise<JobEvent[]>;
  /** Live events of one job; returns the unsubscribe. */
  subscribe(id: string, listener: JobListener): () => void;
  /** Cancels a job that has not ended; answers its view afterwards (undefined: no such job). */
  cancel(id: string): Promise<JobView | undefined>;
  deadLetters(): Promise<{ id: string; client: string; error?: OpenAIErrorBody }[]>;
  /** Whether the backend can take jobs now (Redis reachable). */
  ready(): boolean;
  /** Resolves once the backend is ready, or after `timeoutMs` (then `ready()` says false). */
  waitReady(timeoutMs: number): Promise<void>;
  /** Stop taking jobs; finish running ones within graceMs; leave queued ones for the next gateway where the backend can. */
  close(graceMs: number): Promise<void>;
}
