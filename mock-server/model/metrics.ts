import { Registry } from 'prom-client';
import { MOCK_METRICS } from '../../src/metrics/catalogue.ts';
import { counter, gauge, histogram } from '../../src/metrics/register.ts';
import type { PoolState } from './pool.ts';

export type MockMetrics = ReturnType<typeof createMockMetrics>;

/** The mock's metrics, from the catalogue; pool gauges are read at scrape time. */
export function createMockMetrics(registry: Registry, timeScale: number, pool: () => PoolState, inFlight: () => number) {
  const m = MOCK_METRICS;
  gauge(registry, m.inFlight, (g) => g.set(inFlight()));
  gauge(registry, m.queueDepth, (g) => g.set(pool().queued));
  gauge(registry, m.queueCapacity, (g) => g.set(pool().queueCapacity));
  gauge(registry, m.busySlots, (g) => g.set(pool().busy));
  gauge(registry, m.backgroundSlots, (g) => g.set(pool().background));
  gauge(registry, m.slots, (g) => g.set(pool().slots));
  return {
    registry,
    requests: counter(registry, m.requests),
    serviceSeconds: histogram(registry, m.serviceSeconds, timeScale),
    queueWaitSeconds: histogram(registry, m.queueWaitSeconds, timeScale),
    limitRejections: counter(registry, m.limitRejections),
    earlyRetries: counter(registry, m.earlyRetries),
    clientRetries: counter(registry, m.clientRetries),
  };
}
