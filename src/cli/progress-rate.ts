/**
 * Completed requests per second over the last `windowMs` of a run, from the running count.
 * The time series' last interval is a tick long (100 ms–1 s): at image-generation rates it
 * holds 0–3 answers, so a progress line read from it jumps between 0 and 15 req/s.
 */
export class RecentRate {
  private readonly samples: { at: number; count: number }[] = [];

  constructor(private readonly windowMs = 5_000) {}

  /** Records the count at `atMs` and returns the rate over the window ending there (per second). */
  update(atMs: number, count: number): number {
    this.samples.push({ at: atMs, count });
    // Keep one sample at or before the window's start, so the window is always full once the run is that old.
    while (this.samples.length > 2 && this.samples[1]!.at <= atMs - this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const spanMs = atMs - first.at;
    return spanMs > 0 ? ((count - first.count) * 1000) / spanMs : 0;
  }
}
