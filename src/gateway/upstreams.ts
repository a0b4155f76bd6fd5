import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { Catalogue } from '../openai/catalogue.ts';
import { DIMENSIONS, type Cost } from '../limiter/cost.ts';
import { createLimiter, type Limiter, type LimiterState, type StoreFactory } from '../limiter/limiter.ts';
import type { LimiterConfig } from '../limiter/config.ts';

/** One provider account: where to call, with which key, and its own limiter. */
export interface Upstream {
  name: string;
  baseURL: string;
  /** Never logged, never a label, never in an answer. */
  key: string;
  limiter: Limiter;
}

export interface UpstreamSpec {
  name: string;
  baseURL: string;
  key: string;
  limiter: LimiterConfig;
}

export interface UpstreamDeps {
  registry: Registry;
  timeScale: number;
  clock?: Clock;
  /** The models whose tokens and prices the limiters price requests with. */
  catalogue?: Catalogue;
  /** Per upstream (each keeps its own budgets): e.g. a RedisStore keyed by the upstream's name. */
  store?: (name: string) => StoreFactory | undefined;
  /** For the limiters' queue and attempt spans; default none. */
  tracer?: Tracer;
}

/**
 * Headroom of an upstream for a cost: the smallest share of any budget left after taking
 * it (1 when no limit is known yet), less the queue already waiting per concurrency slot,
 * less a full point while the account is paused. Open circuits are not candidates at all.
 */
export function headroom(state: LimiterState, cost: Cost): number {
  const snap = state.store;
  let share = 1;
  for (const dim of DIMENSIONS) {
    const limit = snap.limits[dim];
    const remaining = snap.remaining[dim];
    if (limit === undefined || remaining === undefined || limit <= 0) continue;
    share = Math.min(share, (remaining - cost[dim]) / limit);
  }
  const queued = state.queued / Math.max(1, state.concurrencyLimit);
  const paused = snap.pausedUntil > state.now ? 1 : 0;
  return share - queued - paused;
}

/**
 * The gateway's providers, the first being the default. `route` orders them for one
 * request: most headroom first, ties in configured order, open circuits left out (so a
 * request fails over to the next provider while one is down).
 */
export class Upstreams {
  readonly list: readonly Upstream[];

  constructor(specs: readonly UpstreamSpec[], deps: UpstreamDeps) {
    if (specs.length === 0) throw new TypeError('Expected `upstreams` to be a list of at least one upstream, got `[]` (array)');
    const names = new Set<string>();
    this.list = specs.map((spec) => {
      if (names.has(spec.name)) throw new TypeError(`Expected upstream names to be unique, got \`${spec.name}\` twice (string)`);
      names.add(spec.name);
      const store = deps.store?.(spec.name);
      const limiter = createLimiter(spec.limiter, { registry: deps.registry, timeScale: deps.timeScale, name: spec.name, clock: deps.clock, catalogue: deps.catalogue, ...(store ? { store } : {}), ...(deps.tracer ? { tracer: deps.tracer } : {}) });
      return { name: spec.name, baseURL: spec.baseURL.replace(/\/$/, ''), key: spec.key, limiter };
    });
  }

  get primary(): Upstream {
    return this.list[0]!;
  }

  route(cost: Cost): Upstream[] {
    if (this.list.length === 1) return [...this.list];
    const scored = this.list
      .map((upstream, order) => {
        const state = upstream.limiter.state();
        const open = state.circuit === 'open';
        return { upstream, order, open, score: open ? -Infinity : headroom(state, cost) };
      })
      .sort((a, b) => (b.score === a.score ? a.order - b.order : b.score - a.score));
    // Open circuits go last rather than away: if every circuit is open, the caller gets the refusal.
    return scored.map((s) => s.upstream);
  }

  /** When every upstream's circuit is open: ms until the first one lets a probe through (else undefined). */
  outageMs(): number | undefined {
    let first = Infinity;
    for (const u of this.list) {
      const { circuit, reopensInMs } = u.limiter.state();
      if (circuit !== 'open') return undefined;
      first = Math.min(first, reopensInMs ?? 0);
    }
    return first;
  }

  /** Ready while at least one upstream's circuit is not open. */
  anyAvailable(): boolean {
    return this.list.some((u) => u.limiter.circuitState() !== 'open');
  }

  close(): void {
    for (const u of this.list) u.limiter.close();
  }
}
