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

/**
 * Where the limiter keeps what must be shared by every replica of a service: budgets,
 * concurrency leases, the account-wide pause. The memory store answers synchronously (the
 * fast path); the Redis store answers with promises. Queues stay with each limiter.
 */
export interface LimiterStore {
  readonly kind: 'memory' | 'redis';
  /** A shared store running on its local share because it cannot reach its server. */
  readonly usingFallback?: boolean;
  /** Budgets, a concurrency lease and the pause, checked and taken atomically. */
  admit(req: AdmitRequest): Admission | Promise<Admission>;
  /** Ends a lease and reconciles the reservation with what the call really cost. */
  release(lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): void | Promise<void>;
  /** Pauses every replica until `untilMs` (a limit 429 means the whole account is over). */
  pause(untilMs: number): void | Promise<void>;
  /** Learns limits and lowers budgets to what the provider's x-ratelimit-* headers say. */
  syncFromHeaders(headers: HeaderSource, now: number): void | Promise<void>;
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
