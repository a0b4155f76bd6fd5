import { probit } from '../../src/core/probit.ts';
import type { Rng } from '../../src/core/rng.ts';
import { StratifiedUniform } from '../../src/core/stratified.ts';
import type { Profile } from '../profiles/schema.ts';
import { OUTPUT_TOKENS, type OutputFormat, type Quality, type Size } from '../../src/core/images-api.ts';

/** z-scores of the 95th and 99th percentiles of N(0, 1). */
export const Z95 = 1.6448536269514722;
export const Z99 = 2.3263478740408408;

export interface LatencyRequest {
  quality: Quality;
  size: Size;
  format: OutputFormat;
  n: number;
}

/**
 * A lognormal fitted to three quantiles: below P95 it is the lognormal through P50 and P95;
 * above P95 the log-spread switches to the one through P95 and P99. The body is the plain
 * lognormal and the tail is as heavy as the profile says, and all three quantiles are exact.
 */
export class LatencyModel {
  private readonly lnP50: number;
  private readonly lnP95: number;
  private readonly sigmaBody: number;
  private readonly sigmaTail: number;
  private readonly referenceTokens: number;
  private readonly drawZ: () => number;

  constructor(
    private readonly latency: Profile['latency'],
    rng: Rng,
  ) {
    const { p50, p95, p99, reference } = latency;
    this.lnP50 = Math.log(Math.max(p50, Number.MIN_VALUE));
    this.lnP95 = Math.log(Math.max(p95, Number.MIN_VALUE));
    this.sigmaBody = p50 > 0 ? Math.log(p95 / p50) / Z95 : 0;
    this.sigmaTail = p95 > 0 ? Math.log(p99 / p95) / (Z99 - Z95) : 0;
    this.referenceTokens = OUTPUT_TOKENS[reference.quality][reference.size];
    if (latency.sampling === 'iid') {
      this.drawZ = () => rng.normal();
    } else {
      const uniform = new StratifiedUniform(rng);
      this.drawZ = () => probit(uniform.next());
    }
  }

  /** Multiplier of the reference latency for this request: tokens, extra images, format. */
  factor(req: LatencyRequest): number {
    const { fixedShare, perExtraImage, formatFactor } = this.latency;
    const tokens = OUTPUT_TOKENS[req.quality][req.size];
    const tokenScale = fixedShare + (1 - fixedShare) * (tokens / this.referenceTokens);
    return tokenScale * (1 + perExtraImage * (req.n - 1)) * formatFactor[req.format];
  }

  /** The reference request's latency at standard-normal score z. */
  atZ(z: number): number {
    if (this.latency.p50 === 0) return 0;
    return z <= Z95 ? Math.exp(this.lnP50 + z * this.sigmaBody) : Math.exp(this.lnP95 + (z - Z95) * this.sigmaTail);
  }

  /**
   * Mean service time (clock ms) of `req` before contention slowdown and faults: the
   * clamped quantile function averaged over 10 000 equal-probability strata (no sampling).
   */
  mean(req: LatencyRequest): number {
    if (this.latency.p50 === 0) return 0;
    const strata = 10_000;
    const factor = this.factor(req);
    let sum = 0;
    for (let i = 0; i < strata; i++) sum += Math.min(this.latency.max, Math.max(this.latency.min, this.atZ(probit((i + 0.5) / strata)) * factor));
    return sum / strata;
  }

  /** One service time (clock ms) before contention slowdown and faults. */
  sample(req: LatencyRequest): number {
    if (this.latency.p50 === 0) return 0;
    const raw = this.atZ(this.drawZ()) * this.factor(req);
    return Math.min(this.latency.max, Math.max(this.latency.min, raw));
  }
}
