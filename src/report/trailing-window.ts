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

// Module-level functions, not closures per call: tsx names every closure it creates (esbuild's keepNames).
const ascending = (a: number, b: number): number => a - b;
const rate = (n: number, seconds: number): number => (seconds > 0 ? n / seconds : 0);

export const zeroCounts = (): IntervalCounts => ({ offered: 0, completed: 0, ok: 0, provider429: 0, refusals: 0, errors: 0, dropped: 0 });

/** Adds `sign` × `c` into `into`, field by field: this runs every tick, for every window. */
function accumulate(into: IntervalCounts, c: IntervalCounts, sign: 1 | -1): void {
  into.offered += sign * c.offered;
  into.completed += sign * c.completed;
  into.ok += sign * c.ok;
  into.provider429 += sign * c.provider429;
  into.refusals += sign * c.refusals;
  into.errors += sign * c.errors;
  into.dropped += sign * c.dropped;
}

/**
 * The figures of the last `windowMs` of a run, from its intervals. Image answers come a few
 * per second at most: one 200 ms interval holds 0–3 of them, so its rate jumps between 0 and
 * 15/s and its P95 is one answer (or none). A trailing window of a few percent of the run
 * holds tens of answers whatever the time scale. Exact: rates are counts over the window's
 * span, percentiles are over the window's answers (nearest rank), nothing is averaged twice.
 */
export class TrailingWindow {
  private readonly intervals: { from: number; to: number; counts: IntervalCounts; latencies: number[] }[] = [];
  /** The held intervals' latencies as one ascending array, kept as intervals come and go. */
  private sorted: number[] = [];
  /** Counts over the intervals held (integers, so adding and taking away stays exact). */
  private readonly sums = zeroCounts();

  constructor(private readonly windowMs: number) {}

  /** Adds the interval (from, to] and returns the figures of the window ending at `to`. Sorts `latencies` in place. */
  add(from: number, to: number, counts: IntervalCounts, latencies: number[]): WindowFigures {
    latencies.sort(ascending);
    const held = this.intervals;
    held.push({ from, to, counts, latencies });
    accumulate(this.sums, counts, 1);
    let sorted = mergeSorted(this.sorted, latencies);
    // An interval stays while any of it lies in the window; the span counts it whole.
    while (held.length > 1 && held[0]!.to <= to - this.windowMs) {
      const gone = held.shift()!;
      accumulate(this.sums, gone.counts, -1);
      sorted = withoutSorted(sorted, gone.latencies);
    }
    this.sorted = sorted;
    const seconds = (to - held[0]!.from) / 1000;
    const c = this.sums;
    return {
      offered: rate(c.offered, seconds),
      completed: rate(c.completed, seconds),
      ok: rate(c.ok, seconds),
      provider429: rate(c.provider429, seconds),
      refusals: rate(c.refusals, seconds),
      errors: rate(c.errors, seconds),
      dropped: rate(c.dropped, seconds),
      p50: percentileOf(sorted, 50),
      p95: percentileOf(sorted, 95),
      p99: percentileOf(sorted, 99),
    };
  }
}

/**
 * Two ascending arrays as one (either itself when the other is empty). Merging the held
 * intervals' sorted latencies beats concatenating them (flatMap) and sorting again by
 * several times: that made each `add` 6–9 µs, a few percent of a simulated run.
 */
function mergeSorted(a: number[], b: number[]): number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * `a` less one occurrence of each value of `b` (both ascending, `b` a sub-multiset of `a`).
 * Taking a leaving interval out of the window's array costs one pass over it, where merging
 * every held interval again at each tick grew with the square of the window (a 24 h run
 * holds 50 intervals of thousands of answers).
 */
function withoutSorted(a: number[], b: number[]): number[] {
  if (b.length === 0) return a;
  const out = new Array<number>(a.length - b.length);
  let j = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (j < b.length && a[i] === b[j]) j++;
    else out[k++] = a[i]!;
  }
  return out;
}

/** Nearest-rank percentile of sorted values; null when there are none (no answer is not a 0 ms answer). */
export function percentileOf(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
