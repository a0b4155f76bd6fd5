import type { Rng } from './rng.ts';

/**
 * Stratified uniforms: each block of `strata` draws holds exactly one value in every
 * [k/strata, (k+1)/strata), in random order. Quantiles of short runs then match the
 * distribution (the empirical P99 of 5 000 iid lognormal draws is off by ~4 %; stratified,
 * well under 1 %) while the order stays random.
 */
export class StratifiedUniform {
  private order: Uint32Array;
  private index: number;

  constructor(
    private readonly rng: Rng,
    private readonly strata = 1000,
  ) {
    this.order = new Uint32Array(strata);
    this.index = strata;
  }

  next(): number {
    if (this.index === this.strata) this.shuffle();
    const stratum = this.order[this.index++]!;
    return (stratum + this.rng.next()) / this.strata;
  }

  private shuffle(): void {
    for (let i = 0; i < this.strata; i++) this.order[i] = i;
    for (let i = this.strata - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = this.order[i]!;
      this.order[i] = this.order[j]!;
      this.order[j] = t;
    }
    this.index = 0;
  }
}
