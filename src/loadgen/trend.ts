import * as hdr from 'hdr-histogram-js';

/** Values are kept to a thousandth (µs for ms trends) as integers: HDR histograms count integers. */
const SCALE = 1000;

/**
 * Sized up front for values up to 2^31 thousandths (36 min of ms), still growing past it:
 * growing from the default size, one resize per new power of two, doubled the cost of
 * filling a trend in a simulated run.
 */
const INITIAL_HIGHEST = 2 ** 31;

/**
 * A k6 Trend over an HDR histogram (3 significant digits) instead of every sample: constant
 * memory at any rate, percentiles within 0.1 %. Also keeps the exact sum, min and max.
 */
export class Trend {
  private readonly histogram = hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true, highestTrackableValue: INITIAL_HIGHEST });
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(value: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(value * SCALE)));
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** p in 0–100. k6 reports 0 for an empty trend. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    if (p <= 0) return this.min;
    return Math.min(this.max, Math.max(this.min, this.histogram.getValueAtPercentile(p) / SCALE));
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** k6's stat names: avg, min, med, max, p(N). */
  stat(name: string): number {
    if (name === 'avg') return this.avg;
    if (name === 'min') return this.count === 0 ? 0 : this.min;
    if (name === 'max') return this.count === 0 ? 0 : this.max;
    if (name === 'med') return this.percentile(50);
    const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(name);
    if (m) return this.percentile(Number(m[1]));
    throw new RangeError(`Expected a trend stat (avg, min, med, max, p(N)), got \`${name}\` (string)`);
  }
}
