export { createLimiter, Limiter, PRIORITIES, type AttemptContext, type Execution, type LimiterDeps, type ScheduleOptions, type StoreFactory, type PriorityName } from './limiter.ts';
export { parseLimiterConfig, loadLimiterConfig, limiterConfigSchema, type LimiterConfig, type LimiterConfigInput } from './config.ts';
export { LimiterError, isLimiterError } from './errors.ts';
export { MemoryStore } from './memory-store.ts';
export { RedisStore, type RedisStoreOptions } from './redis-store.ts';
export { imageCost, priceOf, type Cost, type ImageCostInput } from './cost.ts';
export { classify, type FailureKind } from './classify.ts';
export type { LimiterStore } from './store.ts';
export { Catalogue, CATALOGUE, type CatalogueModel } from '../openai/catalogue.ts';
