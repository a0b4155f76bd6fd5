import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { toMs } from '../core/duration.ts';
import { readable } from './production-time.ts';

/** Arrivals per minute at each production second of an arrival-rate plan (undefined: a VU plan, whose arrivals follow its answers). */
export function arrivalsPerMinute(options: LoadOptions, timeScale: number): number[] | undefined {
  const perSecond: number[] = [];
  const add = (second: number, perMin: number) => (perSecond[second] = (perSecond[second] ?? 0) + perMin);
  for (const c of Object.values(options.scenarios)) {
    if (c.executor !== 'constant-arrival-rate' && c.executor !== 'ramping-arrival-rate') {
      if (c.executor === 'shared-iterations' || c.executor === 'per-vu-iterations') continue; // an injector, not load
      return undefined;
    }
    // Rates are per timeUnit as run; in production, per timeUnit ÷ scale.
    const unitMin = toMs(c.timeUnit ?? '1s') / timeScale / 60_000;
    const start = Math.round((c.startTime ? toMs(c.startTime) : 0) / timeScale / 1000);
    if (c.executor === 'constant-arrival-rate') {
      const seconds = Math.round(toMs(c.duration) / timeScale / 1000);
      for (let t = 0; t < seconds; t++) add(start + t, c.rate / unitMin);
      continue;
    }
    let at = start;
    let from = c.startRate ?? 0;
    for (const stage of c.stages) {
      const seconds = Math.round(toMs(stage.duration) / timeScale / 1000);
      for (let t = 0; t < seconds; t++) add(at + t, (from + ((stage.target - from) * (t + 0.5)) / seconds) / unitMin);
      at += seconds;
      from = stage.target;
    }
  }
  return Array.from(perSecond, (x) => x ?? 0);
}

/**
 * The least capacity (images/min) at which no arrival of this plan would wait longer than
 * `maxWaitMs` in a fluid queue (arrivals and service as smooth flows): what the account
 * needs to serve the load without refusals.
 */
export function capacityNeeded(arrivals: number[], maxWaitMs: number): number {
  const fits = (c: number): boolean => {
    let backlog = 0;
    for (const a of arrivals) {
      backlog = Math.max(0, backlog + (a - c) / 60);
      if ((backlog / c) * 60_000 > maxWaitMs) return false;
    }
    return true;
  };
  let lo = 0;
  let hi = Math.max(...arrivals, 1);
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface VerdictFacts {
  capacity: number;
  requests: number;
  images: number;
  goodput: number;
  refusalRate: number;
  provider429Rate: number;
  /** P95 of images, production ms. */
  p95Ms: number | undefined;
  /**
   * Throughput needed to serve the load without refusals; the account limit that gives it at
   * the limiter's `safety` share; and the smallest tier with that limit.
   */
  needed?: { imagesPerMinute: number; safety: number; tier: number | undefined };
  /** The gateway's queue, when its gauges were read: where the wait came from. */
  queue?: QueueFacts;
}

export interface QueueFacts {
  /** P95 of the time requests waited in the gateway's queue, production ms. */
  waitP95Ms: number;
  /** Of the intervals with requests waiting, the share in which every concurrency slot was busy (the rest waited on the budgets: the account's limits). */
  concurrencyBoundShare: number;
  /** The highest concurrency limit while requests waited. */
  maxLimit: number;
}

/**
 * Where the gateway's queue came from, read off its gauges at each interval: requests waiting
 * with every concurrency slot busy (`inFlight >= limit`) waited on the concurrency limit;
 * waiting with slots free, on the budgets (the account's limits). Undefined when nobody waited.
 */
export function queueFacts(points: readonly { queueDepth?: number; inFlight?: number; concurrencyLimit?: number }[], waitP95Ms: number | undefined): QueueFacts | undefined {
  const queued = points.filter((p) => (p.queueDepth ?? 0) > 0 && p.inFlight !== undefined && p.concurrencyLimit !== undefined);
  if (queued.length === 0 || waitP95Ms === undefined) return undefined;
  const bound = queued.filter((p) => p.inFlight! >= p.concurrencyLimit!).length;
  return { waitP95Ms, concurrencyBoundShare: bound / queued.length, maxLimit: Math.max(...queued.map((p) => p.concurrencyLimit!)) };
}

/** A sentence on the queue when it made a good part of the P95: which limit held requests, and what to change. */
function queueSentence(q: QueueFacts, f: VerdictFacts & { p95Ms: number }): string | undefined {
  if (q.waitP95Ms < 0.25 * f.p95Ms) return undefined;
  const wait = `Much of that P95 was the gateway's own queue (P95 wait ${readable(q.waitP95Ms)})`;
  if (q.concurrencyBoundShare < 0.5) {
    return `${wait}, with concurrency slots free for ${Math.round(100 * (1 - q.concurrencyBoundShare))} % of the time requests waited: the account's limits (the budgets) made the wait; more throughput takes a higher tier or more accounts.`;
  }
  const bound = `${wait}: for ${Math.round(100 * q.concurrencyBoundShare)} % of the time requests waited, every concurrency slot was busy (limit up to ${q.maxLimit}), so they waited on the gateway's concurrency limit first`;
  // Whether a higher limit would deliver more: only if the account had room.
  const use = `${f.goodput.toFixed(1)} of its ${f.capacity} images/min`;
  if (f.goodput < 0.9 * f.capacity) return `${bound}, while the account delivered ${use}: raise \`concurrency.limit\` (or \`max\`), or let \`ratelab tune\` choose it.`;
  return `${bound}; the account was near its limit too (${use}), so a higher concurrency limit alone would not deliver more.`;
}

/** The run in one paragraph, in production time: what was delivered, what was refused, and what serving it would take. */
export function verdict(f: VerdictFacts): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const parts = [
    `The account (capacity ${f.capacity} images/min) delivered ${f.images} of ${f.requests} requested images (${f.goodput.toFixed(1)} images/min)${f.p95Ms === undefined ? '' : `, P95 ${readable(f.p95Ms)} per image`}.`,
    f.refusalRate > 0 ? `${pct(f.refusalRate)} of requests (${Math.round(f.refusalRate * f.requests)}) were refused by the gateway: they could not start within its queue's wait.` : 'The gateway refused nothing.',
    f.provider429Rate > 0 ? `${pct(f.provider429Rate)} got a provider 429.` : 'No provider 429 reached a client.',
  ];
  const queue = f.queue && f.p95Ms !== undefined ? queueSentence(f.queue, { ...f, p95Ms: f.p95Ms }) : undefined;
  if (queue) parts.push(queue);
  if (f.needed && f.refusalRate > 0) {
    const tier = f.needed.tier === undefined ? 'more than any tier of this profile: add upstreams' : `tier ${f.needed.tier} or higher`;
    const limit = Math.ceil(f.needed.imagesPerMinute / f.needed.safety);
    parts.push(`To serve this load with no refusal you need about ${Math.ceil(f.needed.imagesPerMinute)} images/min delivered: an account limit of ${limit} at the limiter's safety ${f.needed.safety} (${tier}).`);
  }
  return parts.join(' ');
}
