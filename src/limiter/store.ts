import type { Cost, Dimension } from './cost.ts';
import type { HeaderSource } from './outcome.ts';

export interface AdmitRequest {
  cost: Cost;
  /** 0 critical … 3 low; a shared store lets a better priority elsewhere go first. */
  priority: number;
  concurrencyLimit: number;
  now: number;
}

export type Admission =
  | { ok: true; lease: string }
  /** `waitMs`: when to ask again (Infinity: the cost can never fit; undefined: when a slot frees). */
  | { ok: false; reason: 'budget' | 'concurrency' | 'cooldown' | 'priority'; waitMs: number | undefined };

export interface StoreSnapshot {
  inFlight: number;
  pausedUntil: number;
  remaining: Partial<Record<Dimension, number>>;
  limits: Partial<Record<Dimension, number>>;
}

/** What every store does, whether it answers at once or with promises (`R`: its result, `R | Promise<R>`). */
interface StoreCommon {
  /** What the store is, for logs and metrics (`memory`, `redis`, or your own). */
  readonly kind: string;
  /** A shared store running on its local share because it cannot reach its server. */
  readonly usingFallback?: boolean;
  snapshot(now: number): StoreSnapshot;
  /**
   * ms until `cost` (what waits ahead of a new task, and the task) would have passed the
   * budgets at their rate: when the task could start at the earliest. A shared store knows
   * only what other replicas took, not what they have waiting, so it answers a lower bound.
   */
  drainMs?(cost: Cost, now: number): number;
  /** The best priority this replica has waiting (undefined: none), for priority across replicas. */
  noteWaiting?(bestPriority: number | undefined): void;
  close(): void | Promise<void>;
}

/**
 * A store in this process that answers at once: the limiter's fast path (one dispatch loop
 * with no awaits). MemoryStore is one.
 */
export interface SyncLimiterStore extends StoreCommon {
  readonly synchronous: true;
  /** Budgets, a concurrency lease and the pause, checked and taken atomically. */
  admit(req: AdmitRequest): Admission;
  /** Ends a lease and reconciles the reservation with what the call really cost. */
  release(lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): void;
  /** Pauses until `untilMs` (a limit 429 means the whole account is over). */
  pause(untilMs: number): void;
  /** Learns limits and lowers budgets to what the provider's x-ratelimit-* headers say. */
  syncFromHeaders(headers: HeaderSource, now: number): void;
}

/**
 * A store shared by every replica of a service, answering with promises: budgets,
 * concurrency leases and the account-wide pause live on its server (RedisStore). Queues stay
 * with each limiter, which tells the store the best priority it has waiting.
 */
export interface AsyncLimiterStore extends StoreCommon {
  readonly synchronous: false;
  admit(req: AdmitRequest): Promise<Admission>;
  release(lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): Promise<void>;
  pause(untilMs: number): Promise<void>;
  syncFromHeaders(headers: HeaderSource, now: number): Promise<void>;
}

/**
 * Where the limiter keeps what must be shared by every replica of a service: budgets,
 * concurrency leases, the account-wide pause. Implement one of the two to bring your own
 * (`synchronous` tells the limiter which loop to run).
 */
export type LimiterStore = SyncLimiterStore | AsyncLimiterStore;
