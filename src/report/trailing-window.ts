/** What one interval of a run counted, and the latencies of the answers completed in it. */
export interface IntervalCounts {
  offered: number;
  completed: number;
  ok: number;
  provider429: number;
  refusals: number;
  /** Other failures: 5xx passed through, connection errors. */
  errors: number;
  dropped: number;
}

/** Rates (per second) and latency percentiles (ms; null when nothing completed) over a stretch of a run. */
export interface WindowFigures extends IntervalCounts {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * The trailing window for a run of `runMs` sampled every `tickMs`: 5 % of the run, so it holds
 * tens of answers at any time scale (the arrival rate scales inversely with the run's length).
 */
export function trailingWindowMs(runMs: number, tickMs: number): number {
  return Math.max(tickMs, 0.05 * runMs);
}

const KEYS = ['offered', 'completed', 'ok', 'provider429', 'refusals', 'errors', 'dropped'] as const;

/**
 * The figures of the last `windowMs` of a run, from its intervals. Image answers come a few
 * per second at most: one 200 ms interval holds 0–3 of them, so its rate jumps between 0 and
 * 15/s and its P95 is one answer (or none). A trailing window of a few percent of the run
 * holds tens of answers whatever the time scale. Exact: rates are counts over the window's
 * span, percentiles are over the window's answers (nearest rank), nothing is averaged twice.
 */
export class TrailingWindow {
  private readonly intervals: { from: number; to: number; counts: IntervalCounts; latencies: number[] }[] = [];

  constructor(private readonly windowMs: number) {}

  /** Adds the interval (from, to] and returns the figures of the window ending at `to`. */
  add(from: number, to: number, counts: IntervalCounts, latencies: number[]): WindowFigures {
    this.intervals.push({ from, to, counts, latencies });
    // An interval stays while any of it lies in the window; the span counts it whole.
    while (this.intervals.length > 1 && this.intervals[0]!.to <= to - this.windowMs) this.intervals.shift();
    const seconds = (to - this.intervals[0]!.from) / 1000;
    const sums: IntervalCounts = { offered: 0, completed: 0, ok: 0, provider429: 0, refusals: 0, errors: 0, dropped: 0 };
    const all: number[] = [];
    for (const i of this.intervals) {
      for (const k of KEYS) sums[k] += i.counts[k];
      for (const v of i.latencies) all.push(v);
    }
    all.sort((a, b) => a - b);
    const figures = { ...sums, p50: percentileOf(all, 50), p95: percentileOf(all, 95), p99: percentileOf(all, 99) };
    for (const k of KEYS) figures[k] = seconds > 0 ? sums[k] / seconds : 0;
    return figures;
  }
}

/** Nearest-rank percentile of sorted values; null when there are none (no answer is not a 0 ms answer). */
export function percentileOf(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
