import type { Registry } from 'prom-client';
import { LIMITER_METRICS, type ShedReason } from '../metrics/catalogue.ts';
import { counter, gauge, histogram } from '../metrics/register.ts';
import type { FailureKind } from './classify.ts';
import { DIMENSIONS } from './cost.ts';
import type { Limiter } from './limiter.ts';

export type LimiterMetrics = ReturnType<typeof createLimiterMetrics>;

const PRIORITY_NAMES = ['critical', 'high', 'normal', 'low'];
const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * The limiter's metrics, from the catalogue, labelled by upstream name. Gauges are read at
 * scrape time; counters cache their labelled children, since prom-client hashes label
 * objects on every call and the limiter's hot path is microseconds long.
 */
export function createLimiterMetrics(registry: Registry, limiter: Limiter, timeScale: number) {
  const m = LIMITER_METRICS;
  const upstream = limiter.name;
  gauge(registry, m.queueDepth, (g) => {
    g.reset();
    for (const name of PRIORITY_NAMES) g.set({ upstream, priority: name }, 0);
    for (const [p, n] of limiter.queueDepthByPriority()) g.set({ upstream, priority: PRIORITY_NAMES[p] ?? String(p) }, n);
  });
  gauge(registry, m.inFlight, (g) => g.set({ upstream }, limiter.inFlight));
  gauge(registry, m.concurrencyLimit, (g) => g.set({ upstream }, limiter.concurrency.current));
  gauge(registry, m.budgetRemaining, (g) => {
    const { remaining } = limiter.store.snapshot(limiter.clock.now());
    for (const dim of DIMENSIONS) if (remaining[dim] !== undefined) g.set({ upstream, dimension: dim }, Math.floor(remaining[dim]!));
  });
  gauge(registry, m.budgetLimit, (g) => {
    const { limits } = limiter.store.snapshot(limiter.clock.now());
    for (const dim of DIMENSIONS) if (limits[dim] !== undefined) g.set({ upstream, dimension: dim }, limits[dim]!);
  });
  gauge(registry, m.cooldownSeconds, (g) => {
    const now = limiter.clock.now();
    g.set({ upstream }, Math.max(0, limiter.store.snapshot(now).pausedUntil - now) / 1000);
  });
  gauge(registry, m.circuitState, (g) => g.set({ upstream }, CIRCUIT_VALUE[limiter.circuit.stateAt(limiter.clock.now())]));
  gauge(registry, m.spendUsd, (g) => g.set({ upstream }, limiter.spendUsed().usd));
  gauge(registry, m.spendBudgetUsd, (g) => {
    const budget = limiter.spendUsed().budget;
    if (budget !== undefined) g.set({ upstream }, budget);
  });

  const tasks = counter(registry, m.tasks);
  const attempts = counter(registry, m.attempts);
  const retries = counter(registry, m.retries);
  const sheds = counter(registry, m.sheds);
  const wait = histogram(registry, m.waitSeconds, timeScale).labels(upstream);
  const cache = new Map<string, { inc(): void }>();
  const child = (c: { labels(...v: string[]): { inc(): void } }, kind: string, value: string) => {
    const key = `${kind}/${value}`;
    let found = cache.get(key);
    if (!found) cache.set(key, (found = c.labels(upstream, value)));
    return found;
  };
  return {
    countTask: (outcome: 'ok' | 'failed' | 'shed') => child(tasks, 'task', outcome).inc(),
    countAttempt: (kind: FailureKind) => child(attempts, 'attempt', kind).inc(),
    countRetry: (reason: FailureKind) => child(retries, 'retry', reason).inc(),
    countShed: (reason: ShedReason) => child(sheds, 'shed', reason).inc(),
    observeWait: (seconds: number) => wait.observe(seconds),
  };
}
