import { probit } from '../../src/core/probit.ts';
import type { Rng } from '../../src/core/rng.ts';
import { StratifiedUniform } from '../../src/core/stratified.ts';
import type { Profile } from '../profiles/schema.ts';
import type { FormatName } from '../../src/openai/catalogue-schema.ts';

/** z-scores of the 95th and 99th percentiles of N(0, 1). */
export const Z95 = 1.6448536269514722;
export const Z99 = 2.3263478740408408;

export interface LatencyRequest {
  /** Output tokens of one image (the catalogue's, for the request's model, quality and size). */
  tokens: number;
  format: FormatName;
  n: number;
  /** Input images of an edit (0 for generations). */
  inputImages: number;
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
  private readonly drawZ: () => number;

  constructor(
    private readonly latency: Profile['latency'],
    rng: Rng,
    /** Output tokens of the profile's reference request (its P50/P95/P99 are for it). */
    private readonly referenceTokens: number,
  ) {
    const { p50, p95, p99 } = latency;
    this.lnP50 = Math.log(Math.max(p50, Number.MIN_VALUE));
    this.lnP95 = Math.log(Math.max(p95, Number.MIN_VALUE));
    this.sigmaBody = p50 > 0 ? Math.log(p95 / p50) / Z95 : 0;
    this.sigmaTail = p95 > 0 ? Math.log(p99 / p95) / (Z99 - Z95) : 0;
    if (latency.sampling === 'iid') {
      this.drawZ = () => rng.normal();
    } else {
      const uniform = new StratifiedUniform(rng);
      this.drawZ = () => probit(uniform.next());
    }
  }

  /** Multiplier of the reference latency for this request: tokens, extra images, input images, format. */
  factor(req: LatencyRequest): number {
    const { fixedShare, perExtraImage, perInputImage, formatFactor } = this.latency;
    const tokenScale = fixedShare + (1 - fixedShare) * (req.tokens / this.referenceTokens);
    return tokenScale * (1 + perExtraImage * (req.n - 1)) * (1 + perInputImage * req.inputImages) * formatFactor[req.format];
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
