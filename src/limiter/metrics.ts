import type { Counter, Histogram, Registry } from 'prom-client';
import { ATTEMPT_KINDS, LIMITER_METRICS, SHED_REASONS, type ShedReason } from '../metrics/catalogue.ts';
import { counter, gauge, histogram } from '../metrics/register.ts';
import type { FailureKind } from './classify.ts';
import { DIMENSIONS } from './cost.ts';
import type { Limiter } from './limiter.ts';
import { PRIORITY_NAMES } from './types.ts';

export type LimiterMetrics = ReturnType<typeof createLimiterMetrics>;

const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

interface Shared {
  limiters: Limiter[];
  tasks: Counter<string>;
  attempts: Counter<string>;
  retries: Counter<string>;
  sheds: Counter<string>;
  wait: Histogram<string>;
}

/** One set of metric objects per registry, so several limiters (one per upstream) share it. */
const perRegistry = new WeakMap<Registry, Shared>();

function register(registry: Registry, timeScale: number): Shared {
  const m = LIMITER_METRICS;
  const limiters: Limiter[] = [];
  const each = (fn: (limiter: Limiter, upstream: string) => void) => {
    for (const limiter of limiters) fn(limiter, limiter.name);
  };
  gauge(registry, m.queueDepth, (g) => {
    g.reset();
    each((limiter, upstream) => {
      for (const name of PRIORITY_NAMES) g.set({ upstream, priority: name }, 0);
      for (const [p, n] of limiter.queueDepthByPriority()) g.set({ upstream, priority: PRIORITY_NAMES[p] ?? String(p) }, n);
    });
  });
  gauge(registry, m.inFlight, (g) => each((l, upstream) => g.set({ upstream }, l.inFlight)));
  gauge(registry, m.concurrencyLimit, (g) => each((l, upstream) => g.set({ upstream }, l.state().concurrencyLimit)));
  gauge(registry, m.budgetRemaining, (g) =>
    each((l, upstream) => {
      const { remaining } = l.state().store;
      for (const dim of DIMENSIONS) if (remaining[dim] !== undefined) g.set({ upstream, dimension: dim }, Math.floor(remaining[dim]!));
    }),
  );
  gauge(registry, m.budgetLimit, (g) =>
    each((l, upstream) => {
      const { limits } = l.state().store;
      for (const dim of DIMENSIONS) if (limits[dim] !== undefined) g.set({ upstream, dimension: dim }, limits[dim]!);
    }),
  );
  gauge(registry, m.cooldownSeconds, (g) =>
    each((l, upstream) => {
      const { now, store } = l.state();
      g.set({ upstream }, Math.max(0, store.pausedUntil - now) / 1000);
    }),
  );
  gauge(registry, m.storeFallback, (g) => each((l, upstream) => g.set({ upstream }, l.state().storeFallback ? 1 : 0)));
  gauge(registry, m.circuitState, (g) => each((l, upstream) => g.set({ upstream }, CIRCUIT_VALUE[l.circuitState()])));
  gauge(registry, m.spendUsd, (g) => each((l, upstream) => g.set({ upstream }, l.spendUsed().usd)));
  gauge(registry, m.spendBudgetUsd, (g) =>
    each((l, upstream) => {
      const budget = l.spendUsed().budget;
      if (budget !== undefined) g.set({ upstream }, budget);
    }),
  );
  return {
    limiters,
    tasks: counter(registry, m.tasks),
    attempts: counter(registry, m.attempts),
    retries: counter(registry, m.retries),
    sheds: counter(registry, m.sheds),
    wait: histogram(registry, m.waitSeconds, timeScale),
  };
}

/**
 * The limiter's metrics, from the catalogue, labelled by upstream name. Gauges are read at
 * scrape time; counters cache their labelled children, since prom-client hashes label
 * objects on every call and the limiter's hot path is microseconds long.
 */
export function createLimiterMetrics(registry: Registry, limiter: Limiter, timeScale: number) {
  let shared = perRegistry.get(registry);
  if (!shared) perRegistry.set(registry, (shared = register(registry, timeScale)));
  shared.limiters.push(limiter);
  const upstream = limiter.name;
  const { tasks, attempts, retries, sheds } = shared;
  const wait = shared.wait.labels(upstream);
  // Every known label value starts at 0, so rates and ratios have series before the first event.
  for (const kind of ATTEMPT_KINDS) attempts.labels(upstream, kind).inc(0);
  for (const kind of ATTEMPT_KINDS) if (kind !== 'ok') retries.labels(upstream, kind).inc(0);
  for (const reason of SHED_REASONS) sheds.labels(upstream, reason).inc(0);
  for (const outcome of ['ok', 'failed', 'shed']) tasks.labels(upstream, outcome).inc(0);
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
