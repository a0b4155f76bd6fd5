import type { Context, Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { Catalogue } from '../openai/catalogue.ts';
import type { FailureKind } from './classify.ts';
import type { LimiterConfig } from './config.ts';
import type { Cost, ImageCostInput } from './cost.ts';
import type { CircuitState } from './circuit-breaker.ts';
import type { LimiterStore, StoreSnapshot } from './store.ts';

export const PRIORITIES = { critical: 0, high: 1, normal: 2, low: 3 } as const;
export type PriorityName = keyof typeof PRIORITIES;
/** The priorities' names, best first (index = level): for enums and labels. */
export const PRIORITY_NAMES = Object.keys(PRIORITIES) as [PriorityName, ...PriorityName[]];

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
  /**
   * The attempt's span context, when the limiter traces this task: pass it to what the attempt
   * calls (e.g. write it as `traceparent`) so the provider's side joins the trace. The task also
   * runs inside it, for an application whose context manager carries spans on its own.
   */
  readonly traceContext: Context | undefined;
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
  /** The context whose span the task's spans go under (with `LimiterDeps.tracer`). Default: the active context. */
  traceContext?: Context;
}

/** How a task ended, with where its time went. */
export interface Execution<T> {
  /**
   * The task's function returned (`value`), rather than threw or was shed (`error`). A fetch
   * task that returned a 500 Response is fulfilled: read `lastKind` ('ok' when it succeeded)
   * and `lastStatus` for how the provider answered.
   */
  fulfilled: boolean;
  /** @deprecated The same as `fulfilled` (the name read as "the call succeeded", which it does not say); use `fulfilled` or `lastKind === 'ok'`. */
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
  /**
   * OpenTelemetry tracer for the limiter's spans: a queue span for each wait (its priority and
   * the reason it waited) and a CLIENT span for each attempt (status, outcome, retry-after,
   * the `x-ratelimit-remaining-*` seen), as children of the span active when the task was
   * scheduled (or `ScheduleOptions.traceContext`); the task's function runs inside its attempt's
   * context and reads it as `AttemptContext.traceContext`. Only under a recording
   * (sampled) span. Default none.
   */
  tracer?: Tracer;
}

/** A limiter as it stands (`limiter.state()`): what routing, readiness checks and dashboards read. */
export interface LimiterState {
  /** When, on the limiter's clock. */
  now: number;
  circuit: CircuitState;
  /** While the circuit is open: ms until it lets a probe through. */
  reopensInMs: number | undefined;
  /** Tasks waiting for their turn (retries waiting out a backoff not counted). */
  queued: number;
  inFlight: number;
  concurrencyLimit: number;
  /** Budgets left, the account-wide pause and leases, as the store sees them. */
  store: StoreSnapshot;
  /** A shared store running on its local share because it cannot reach its server. */
  storeFallback: boolean;
}
