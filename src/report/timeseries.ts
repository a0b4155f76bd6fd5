import { CHECKS } from '../../loadtests/lib/answers.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import type { Metrics } from '../loadgen/metrics.ts';
import type { GatewayGauges } from './scrape.ts';
import { TrailingWindow, zeroCounts, type WindowFigures } from './trailing-window.ts';

/** One interval of a run: rates per second, latency percentiles in ms (null when nothing completed). */
export interface SeriesPoint extends WindowFigures {
  /** Seconds since the run started (end of the interval). */
  t: number;
  vus: number;
  queueDepth?: number;
  inFlight?: number;
  concurrencyLimit?: number;
  /** The gateway's worst circuit breaker: 0 closed, 1 half-open, 2 open. */
  circuitState?: number;
  /** The same figures over the trailing window (`TimeSeries.windowMs`) ending here, when the series has one: what the report plots. */
  trailing?: WindowFigures;
  /** P50 and P95 time to the first image (a stream's first partial, else the whole answer), ms, over the trailing window (else the interval); absent with no image in it. */
  firstImage?: { p50: number; p95: number };
}

/**
 * Per-interval counts and latency percentiles of a run, fed by the engine's samples, and
 * with `windowMs` the same over a trailing window: what `timeseries.json` keeps and the
 * HTML report plots.
 */
export class TimeSeries {
  readonly points: SeriesPoint[] = [];
  /** An interval holds few answers: exact percentiles from a sorted array beat an HDR histogram's bucket walk here. */
  private latency: number[] = [];
  private counts = zeroCounts();
  private lastAt: number;
  private readonly interval = new TrailingWindow(0);
  private readonly trailing: TrailingWindow | undefined;
  private firstImages: number[] = [];
  private readonly firstImageWindow: TrailingWindow;

  constructor(
    metrics: Metrics,
    private readonly startedAt: number,
    /** Length of the trailing window in clock ms; 0 for none. */
    readonly windowMs = 0,
  ) {
    this.lastAt = startedAt;
    this.trailing = windowMs > 0 ? new TrailingWindow(windowMs) : undefined;
    this.firstImageWindow = new TrailingWindow(windowMs);
    metrics.listen((name, value, tags) => {
      if (name === M.timeToFirstImage.name) return void this.firstImages.push(value);
      if (name === 'http_req_duration') {
        this.latency.push(value);
        this.counts.completed++;
        const status = tags?.status;
        if (status === '200') this.counts.ok++;
        // Every other answer is an error, until its metrics say it was a provider 429 or a refusal (below): each is counted once.
        else this.counts.errors++;
      } else if (name === 'checks' && !value && tags?.check === CHECKS.image && tags.status === '200') {
        // A 200 stream that ended in an error event: an answer, not an image.
        this.counts.ok = Math.max(0, this.counts.ok - 1);
        this.counts.errors++;
      } else if (name === M.provider429.name && value) {
        this.counts.provider429++;
        this.counts.errors = Math.max(0, this.counts.errors - 1);
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
    if (now <= this.lastAt) return;
    const counts = this.counts;
    const latencies = this.latency;
    const point: SeriesPoint = { t: (now - this.startedAt) / 1000, ...this.interval.add(this.lastAt, now, counts, latencies), vus };
    if (gateway?.queueDepth !== undefined) point.queueDepth = gateway.queueDepth;
    if (gateway?.inFlight !== undefined) point.inFlight = gateway.inFlight;
    if (gateway?.concurrencyLimit !== undefined) point.concurrencyLimit = gateway.concurrencyLimit;
    if (gateway?.circuitState !== undefined) point.circuitState = gateway.circuitState;
    if (this.trailing) point.trailing = this.trailing.add(this.lastAt, now, counts, latencies);
    const first = this.firstImageWindow.add(this.lastAt, now, zeroCounts(), this.firstImages);
    if (first.p50 !== null && first.p95 !== null) point.firstImage = { p50: first.p50, p95: first.p95 };
    this.points.push(point);
    this.latency = [];
    this.firstImages = [];
    this.counts = zeroCounts();
    this.lastAt = now;
  }
}

/**
 * Time to recover from an outage: from its end until the first interval from which the
 * answers of the next `windowS` seconds (that interval included) reach `share` of successes
 * (default 90 %); undefined if that never happens. With a window, one lucky answer among
 * failures does not count as recovered; with 0, each interval is judged alone.
 */
export function timeToRecover(points: readonly SeriesPoint[], outageEndS: number, share = 0.9, windowS = 0): number | undefined {
  const seconds = points.map((p, i) => p.t - (i > 0 ? points[i - 1]!.t : 0));
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.t <= outageEndS || p.completed === 0) continue;
    let ok = 0;
    let completed = 0;
    for (let j = i; j < points.length && (j === i || points[j]!.t <= p.t + windowS); j++) {
      ok += points[j]!.ok * seconds[j]!;
      completed += points[j]!.completed * seconds[j]!;
    }
    if (ok / completed >= share) return Math.max(0, p.t - outageEndS);
  }
  return undefined;
}
