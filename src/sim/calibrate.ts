import { catalogueOf, loadProfile } from '../../mock-server/profiles/index.ts';
import type { Profile } from '../../mock-server/profiles/schema.ts';
import { LatencyModel, type LatencyRequest } from '../../mock-server/model/latency.ts';
import { referenceTokens } from '../../mock-server/model/latency-request.ts';
import { createRng } from '../core/rng.ts';
import type { TraceLine } from '../gateway/trace-line.ts';
import { qualityOf } from '../openai/cost.ts';
import { parseWxH } from '../openai/sizes.ts';
import { outputTokens } from '../openai/tokens.ts';
import { classKeyOf, classNameOf, type ClassKey } from './trace-replay.ts';

export interface CalibrateOptions {
  /** The profile the fitted one extends (its tiers, pool, limits stay). Default `openai`. */
  base?: string;
  /** Fewest answered requests a class needs to be fitted (fewer: named, not guessed). Default 20. */
  minSamples?: number;
}

/** One class: what the trace showed and what the fitted profile gives, production ms. */
export interface ClassFit {
  class: string;
  samples: number;
  observed: Quantiles;
  fitted: Quantiles;
  /** Output tokens per image: the trace's median, and what the catalogue says for the class. */
  outputTokens: { observed: number | null; catalogue: number };
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface Calibration {
  /** The fitted profile's overrides over `base` (what `--out` writes, with `extends`). */
  profile: { extends: string; name: string; description: string; latency: Partial<Profile['latency']>; pool: { background: { kind: 'none' }; slowdown: [number, number][] } };
  fits: ClassFit[];
  /** Classes with fewer answered requests than `minSamples`: not fitted. */
  tooFew: { class: string; samples: number }[];
  /** Root mean square of log(fitted ÷ observed) over every fitted class's three quantiles: the fit's typical error as a ratio − 1. */
  typicalError: number;
  /** The provider's own limits as its x-ratelimit-limit-* headers said them, per model (largest seen). */
  limitsSeen: Record<string, { requests: number | null; tokens: number | null }>;
  /** Share of upstream answers that were 429 or 503 (contention, limits): observed, not fitted. */
  upstream: { answers: number; status429: number; status503: number };
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const median = (xs: number[]): number | null => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5) : null);

interface Observed {
  key: ClassKey;
  name: string;
  service: number[];
  tokens: number[];
}

/**
 * Fits a mock profile's latency to a trace. The mock times a request as the profile's
 * reference quantiles × a factor of its output tokens, images, references and format
 * (mock-server/model/latency.ts); so each class's observed service time (latency less the
 * gateway's queue, single-attempt answers only, production time) is matched by choosing the
 * reference P50/P95/P99 and the two factors the trace can tell apart — the share of time that
 * does not grow with tokens, and the time per reference image — by least squares on the log
 * quantiles of every class with enough samples. Each class's observed and fitted quantiles
 * are kept to be shown side by side.
 */
export function calibrate(lines: readonly TraceLine[], o: CalibrateOptions = {}): Calibration {
  const baseName = o.base ?? 'openai';
  const base = loadProfile(baseName);
  const catalogue = catalogueOf(base);
  const minSamples = o.minSamples ?? 20;
  const byClass = new Map<string, Observed>();
  const limitsSeen: Calibration['limitsSeen'] = {};
  const upstream = { answers: 0, status429: 0, status503: 0 };
  for (const line of lines) {
    if (line.upstreamStatus !== null) {
      upstream.answers++;
      if (line.upstreamStatus === 429) upstream.status429++;
      if (line.upstreamStatus === 503) upstream.status503++;
    }
    if (line.model && line.rateLimit) {
      const seen = (limitsSeen[line.model] ??= { requests: null, tokens: null });
      const max = (a: number | null, b: number | null) => (b === null ? a : a === null ? b : Math.max(a, b));
      seen.requests = max(seen.requests, line.rateLimit.limitRequests);
      seen.tokens = max(seen.tokens, line.rateLimit.limitTokens);
    }
    const key = classKeyOf(line);
    if (!key) continue;
    const name = classNameOf(key);
    const c = byClass.get(name) ?? { key, name, service: [], tokens: [] };
    byClass.set(name, c);
    // Only answers that ran once on the provider time the provider: a retry adds its backoff.
    if (line.status !== 200 || !line.completed || line.attempts !== 1) continue;
    c.service.push(Math.max(0, line.latencyMs - (line.queueMs ?? 0)) / line.timeScale);
    if (line.usage && line.n) c.tokens.push(line.usage.outputTokens / line.n);
  }
  const fitted = [...byClass.values()].filter((c) => c.service.length >= minSamples);
  const tooFew = [...byClass.values()].filter((c) => c.service.length < minSamples).map((c) => ({ class: c.name, samples: c.service.length }));

  const refTokens = referenceTokens(base, catalogue);
  // What the mock's latency model reads of a class (its LatencyRequest), made once per class.
  const requestOf = (k: ClassKey): LatencyRequest => ({
    tokens: outputTokens(catalogue.factsFor(k.model).tokens, qualityOf(k.quality), parseWxH(k.size) ?? { width: 1024, height: 1024 }),
    format: k.format,
    n: k.n,
    inputImages: k.inputImages?.count ?? 0,
  });
  // The mock's own latency factor (LatencyModel.factor) for a fixed share and a time per reference; the RNG is never drawn.
  const rng = createRng(0);
  const factorsAt = (fixedShare: number, perInputImage: number, requests: readonly LatencyRequest[]): number[] => {
    const model = new LatencyModel({ ...base.latency, fixedShare, perInputImage }, rng, refTokens);
    return requests.map((r) => model.factor(r));
  };
  const observed = fitted.map((c) => {
    const sorted = [...c.service].sort((a, b) => a - b);
    return { c, request: requestOf(c.key), q: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99) } };
  });
  const requests = observed.map((o) => o.request);
  const P = ['p50', 'p95', 'p99'] as const;
  let best = { err: Infinity, fixedShare: base.latency.fixedShare, perInputImage: base.latency.perInputImage, ref: { p50: base.latency.p50, p95: base.latency.p95, p99: base.latency.p99 } as Quantiles };
  if (observed.length > 0) {
    const hasEdits = observed.some(({ c }) => (c.key.inputImages?.count ?? 0) > 0);
    const varied = new Set(requests.map((r) => r.tokens)).size > 1;
    // A factor the trace cannot tell apart stays the base profile's: one token count fits any fixed share.
    const shares = varied ? Array.from({ length: 101 }, (_, i) => i / 100) : [base.latency.fixedShare];
    const perInput = hasEdits ? Array.from({ length: 101 }, (_, i) => i / 50) : [base.latency.perInputImage];
    const weight = observed.map(({ c }) => c.service.length);
    const total = weight.reduce((a, b) => a + b, 0);
    for (const fs of shares) {
      for (const pi of perInput) {
        const logF = factorsAt(fs, pi, requests).map(Math.log);
        const ref = {} as Quantiles;
        let err = 0;
        for (const p of P) {
          // For fixed factors the best log reference is the weighted mean of log(observed ÷ factor).
          const logRef = observed.reduce((a, { q }, i) => a + weight[i]! * (Math.log(Math.max(q[p], 1)) - logF[i]!), 0) / total;
          ref[p] = Math.exp(logRef);
          err += observed.reduce((a, { q }, i) => a + weight[i]! * (logRef + logF[i]! - Math.log(Math.max(q[p], 1))) ** 2, 0);
        }
        if (err < best.err) best = { err, fixedShare: fs, perInputImage: pi, ref };
      }
    }
  }
  const bestFactors = factorsAt(best.fixedShare, best.perInputImage, requests);
  const fits: ClassFit[] = observed.map(({ c, q, request }, i) => {
    const f = bestFactors[i]!;
    return { class: c.name, samples: c.service.length, observed: q, fitted: { p50: best.ref.p50 * f, p95: best.ref.p95 * f, p99: best.ref.p99 * f }, outputTokens: { observed: median(c.tokens), catalogue: request.tokens } };
  });
  const logs = fits.flatMap((f) => P.map((p) => Math.log(f.fitted[p] / Math.max(f.observed[p], 1))));
  const typicalError = logs.length ? Math.exp(Math.sqrt(logs.reduce((a, x) => a + x * x, 0) / logs.length)) - 1 : 0;
  const round = (ms: number): number => Math.round(ms);
  // The base's cap must not cut what the trace showed.
  const longest = Math.max(0, ...fitted.flatMap((c) => c.service));
  // The quantiles must stay in order for the profile's schema, whatever the samples said.
  const p50 = round(best.ref.p50);
  const p95 = Math.max(p50, round(best.ref.p95));
  const p99 = Math.max(p95, round(best.ref.p99));
  return {
    profile: {
      extends: baseName,
      name: 'calibrated',
      description: `${baseName} with latency fitted to ${lines.length} traced requests (${fits.length} classes)`,
      latency: { p50, p95, p99, fixedShare: best.fixedShare, perInputImage: best.perInputImage, max: Math.max(base.latency.max, Math.ceil((1.5 * longest) / 1000) * 1000) },
      // The trace's times already hold the provider's contention at the load it saw: the base's background tenants and slowdown would count it twice.
      pool: { background: { kind: 'none' }, slowdown: [[0, 1]] },
    },
    fits,
    tooFew,
    typicalError,
    limitsSeen,
    upstream,
  };
}
