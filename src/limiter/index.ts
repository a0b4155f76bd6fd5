/**
 * `ratelab/limiter`: what a service needs to embed the limiter. Everything else in
 * src/limiter is internal and may change without notice.
 */

/** Building one: `createLimiter(config, deps)` validates the config (every field documented in limiter.example.yaml). */
export { createLimiter, type Limiter, type LimiterDeps, type StoreFactory } from './limiter.ts';
export { loadLimiterConfig, parseLimiterConfig, type LimiterConfig, type LimiterConfigInput } from './config.ts';

/** Scheduling work: `limiter.schedule(task, options)` (value or error) or `limiter.execute(...)` (an Execution, never throws). */
export { PRIORITIES, type AttemptContext, type Execution, type PriorityName, type ScheduleOptions } from './types.ts';
/** What a task may return besides a Response or an SDK result: an answer it has already read (status, headers, error, usage). */
export { ReadAnswer, type AnswerError, type HeaderSource } from './outcome.ts';
/** What a call costs: an images request's fields, or an explicit cost per budget; `imageCost` says what the limiter will charge. */
export { imageCost, type Cost, type Dimension, type ImageCostInput } from './cost.ts';

/** How it refuses: a LimiterError with a reason (queue_full, deadline_unmeetable, circuit_open, ...) and a retry-after. */
export { LimiterError, isLimiterError } from './errors.ts';
export type { ShedReason } from '../metrics/catalogue.ts';
export type { FailureKind } from './classify.ts';

/** Reading it: `limiter.state()` for routing, readiness and dashboards. */
export type { LimiterState } from './types.ts';
export type { CircuitState } from './circuit-breaker.ts';

/** Where budgets and leases live: in memory (one process), on Redis (every replica), or a store of your own. */
export { MemoryStore } from './memory-store.ts';
export { RedisStore, type RedisStoreOptions } from './redis-store.ts';
export type { Admission, AdmitRequest, AsyncLimiterStore, LimiterStore, StoreSnapshot, SyncLimiterStore } from './store.ts';

/** The models whose tokens and prices price each task (`deps.catalogue`; the built-in one by default). */
export { Catalogue, CATALOGUE, type CatalogueModel } from '../openai/catalogue.ts';
