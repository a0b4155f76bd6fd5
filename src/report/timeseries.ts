import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import type { Metrics } from '../loadgen/metrics.ts';
import type { GatewayGauges } from './scrape.ts';

/** One interval of a run; rates are per second. */
export interface SeriesPoint {
  /** Seconds since the run started (end of the interval). */
  t: number;
  offered: number;
  completed: number;
  ok: number;
  provider429: number;
  refusals: number;
  /** Other failures: 5xx passed through, connection errors. */
  errors: number;
  dropped: number;
  /** ms, over the interval's completed requests (0 when none). */
  p50: number;
  p95: number;
  p99: number;
  vus: number;
  queueDepth?: number;
  inFlight?: number;
  concurrencyLimit?: number;
}

/**
 * Per-interval counts and latency percentiles of a run, fed by the engine's samples: what
 * the HTML report plots and `timeseries.json` keeps.
 */
export class TimeSeries {
  readonly points: SeriesPoint[] = [];
  /** An interval holds few answers: exact percentiles from a sorted array beat an HDR histogram's bucket walk here. */
  private latency: number[] = [];
  private counts = { offered: 0, completed: 0, ok: 0, provider429: 0, refusals: 0, errors: 0, dropped: 0 };
  private lastAt: number;

  constructor(
    metrics: Metrics,
    private readonly startedAt: number,
  ) {
    this.lastAt = startedAt;
    metrics.listen((name, value, tags) => {
      if (name === 'http_req_duration') {
        this.latency.push(value);
        this.counts.completed++;
        const status = tags?.status;
        if (status === '200') this.counts.ok++;
        else if (status !== '429' || tags?.expected_response !== 'true') this.counts.errors++;
      } else if (name === M.provider429.name && value) {
        this.counts.provider429++;
      } else if (name === M.refusals.name && value) {
        this.counts.refusals++;
        this.counts.errors = Math.max(0, this.counts.errors - 1);
      }
    });
  }

  offered(started: boolean): void {
    this.counts.offered++;
    if (!started) this.counts.dropped++;
  }

  /** Closes the interval ending at `now`. */
  sample(now: number, vus: number, gateway?: GatewayGauges): void {
    const seconds = (now - this.lastAt) / 1000;
    if (seconds <= 0) return;
    const per = (n: number) => n / seconds;
    const c = this.counts;
    const sorted = this.latency.sort((a, b) => a - b);
    this.points.push({
      t: (now - this.startedAt) / 1000,
      offered: per(c.offered),
      completed: per(c.completed),
      ok: per(c.ok),
      provider429: per(c.provider429),
      refusals: per(c.refusals),
      errors: per(c.errors),
      dropped: per(c.dropped),
      p50: percentileOf(sorted, 50),
      p95: percentileOf(sorted, 95),
      p99: percentileOf(sorted, 99),
      vus,
      ...(gateway?.queueDepth !== undefined ? { queueDepth: gateway.queueDepth } : {}),
      ...(gateway?.inFlight !== undefined ? { inFlight: gateway.inFlight } : {}),
      ...(gateway?.concurrencyLimit !== undefined ? { concurrencyLimit: gateway.concurrencyLimit } : {}),
    });
    this.latency = [];
    this.counts = { offered: 0, completed: 0, ok: 0, provider429: 0, refusals: 0, errors: 0, dropped: 0 };
    this.lastAt = now;
  }
}

/**
 * Time to recover from an outage: from its end until the first interval whose successes
 * reach `share` of what was completed then (default 90 %); undefined if it never does.
 */
export function timeToRecover(points: readonly SeriesPoint[], outageEndS: number, share = 0.9): number | undefined {
  for (const p of points) {
    if (p.t <= outageEndS || p.completed === 0) continue;
    if (p.ok / p.completed >= share) return Math.max(0, p.t - outageEndS);
  }
  return undefined;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
