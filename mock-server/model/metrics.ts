import { Registry } from 'prom-client';
import { MOCK_METRICS, type MockReason } from '../../src/metrics/catalogue.ts';
import { counter, gauge, histogram } from '../../src/metrics/register.ts';
import type { PoolState } from './pool.ts';

/** What the mock model counts as it answers. */
export interface MockMetrics {
  /** Where /metrics reads them; undefined when nothing is recorded (`silentMockMetrics`). */
  registry: Registry | undefined;
  countRequest(status: number, reason: MockReason): void;
  observeService(quality: string, size: string, seconds: number): void;
  observeQueueWait(seconds: number): void;
  countLimitRejection(dimension: string): void;
  countEarlyRetry(): void;
  countClientRetry(): void;
}

const nothing = (): void => undefined;

/** For a model nobody scrapes (the simulator): counting costs nothing, /metrics says so. */
export function silentMockMetrics(): MockMetrics {
  return { registry: undefined, countRequest: nothing, observeService: nothing, observeQueueWait: nothing, countLimitRejection: nothing, countEarlyRetry: nothing, countClientRetry: nothing };
}

/** The mock's metrics, from the catalogue; pool gauges are read at scrape time. */
export function createMockMetrics(registry: Registry, timeScale: number, pool: () => PoolState, inFlight: () => number): MockMetrics {
  const m = MOCK_METRICS;
  const requests = counter(registry, m.requests);
  const serviceSeconds = histogram(registry, m.serviceSeconds, timeScale);
  const queueWaitSeconds = histogram(registry, m.queueWaitSeconds, timeScale);
  // prom-client hashes label objects on every call; the label sets here are few and fixed.
  const requestChildren = new Map<string, { inc(): void }>();
  const serviceChildren = new Map<string, { observe(v: number): void }>();
  gauge(registry, m.inFlight, (g) => g.set(inFlight()));
  gauge(registry, m.queueDepth, (g) => g.set(pool().queued));
  gauge(registry, m.queueCapacity, (g) => g.set(pool().queueCapacity));
  gauge(registry, m.busySlots, (g) => g.set(pool().busy));
  gauge(registry, m.backgroundSlots, (g) => g.set(pool().background));
  gauge(registry, m.slots, (g) => g.set(pool().slots));
  const limitRejections = counter(registry, m.limitRejections);
  const earlyRetries = counter(registry, m.earlyRetries);
  const clientRetries = counter(registry, m.clientRetries);
  // Every dimension starts at 0, so "rejections by dimension" has series before the first 429.
  for (const dimension of ['rpm', 'ipm', 'tpm']) limitRejections.inc({ dimension }, 0);
  return {
    registry,
    countRequest(status: number, reason: MockReason): void {
      const key = `${status}/${reason}`;
      let child = requestChildren.get(key);
      if (!child) requestChildren.set(key, (child = requests.labels(String(status), reason)));
      child.inc();
    },
    /** `size` is a bounded label (`sizeLabel`): free-form sizes fold into megapixel classes. */
    observeService(quality: string, size: string, seconds: number): void {
      const key = `${quality}/${size}`;
      let child = serviceChildren.get(key);
      if (!child) serviceChildren.set(key, (child = serviceSeconds.labels(quality, size)));
      child.observe(seconds);
    },
    observeQueueWait(seconds: number): void {
      queueWaitSeconds.observe(seconds);
    },
    countLimitRejection: (dimension) => limitRejections.inc({ dimension }),
    countEarlyRetry: () => earlyRetries.inc(),
    countClientRetry: () => clientRetries.inc(),
  };
}
