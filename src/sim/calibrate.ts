import { catalogueOf, loadProfile } from '../../mock-server/profiles/index.ts';
import type { Profile } from '../../mock-server/profiles/schema.ts';
import { LatencyModel, type LatencyRequest } from '../../mock-server/model/latency.ts';
import { referenceTokens } from '../../mock-server/model/latency-request.ts';
import { createRng } from '../core/rng.ts';
import type { TraceLine } from '../gateway/trace-line.ts';
import { qualityOf } from '../openai/cost.ts';
import { parseWxH } from '../openai/sizes.ts';
import { outputTokens } from '../openai/tokens.ts';
import { Catalogue } from '../openai/catalogue.ts';
import type { ModelOverride } from '../openai/catalogue-schema.ts';
import { fitInputImageTokens, fitLimits, fitTokens, median, quantile, upstreamBehaviour, type InputImageTokensFit, type LimitsSeen, type TokenCell, type UpstreamBehaviour } from './calibrate-facts.ts';
import { classKeyOf, classNameOf, type ClassKey } from './trace-replay.ts';

export interface CalibrateOptions {
  /** The profile the fitted one extends (its tiers, pool, limits stay). Default `openai`. */
  base?: string;
  /** Fewest answered requests a class needs to be fitted (fewer: named, not guessed). Default 20. */
  minSamples?: number;
  /** The tier limits the provider's headers said are written at, when they are no catalogue tier's. Default: the highest tier they reach. */
  tier?: number;
}

/** One class: what the trace showed and what the fitted profile gives, production ms. */
export interface ClassFit {
  class: string;
  samples: number;
  observed: Quantiles;
  fitted: Quantiles;
  /** Output tokens per image: the trace's median, and what the catalogue says for the class. */
  outputTokens: { observed: number | null; catalogue: number };
  /** Input tokens per request (prompt and references), the trace's median; the references' share is fitted per model (`Calibration.inputImageTokens`). */
  inputTokens: number | null;
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface Calibration {
  /** The fitted profile's overrides over `base` (what `--out` writes, with `extends`). */
  profile: {
    extends: string;
    name: string;
    description: string;
    latency: Partial<Profile['latency']>;
    pool: { background: { kind: 'none' }; slowdown: [number, number][]; contention?: { status: 429 | 503 } };
    /** Output tokens, tokens per reference image and tier limits the trace showed, where they differ from the catalogue's. */
    models?: Record<string, ModelOverride>;
    limits?: { omitHeaders: true };
  };
  fits: ClassFit[];
  /** Classes with fewer answered requests than `minSamples`: not fitted. */
  tooFew: { class: string; samples: number }[];
  /** Root mean square of log(fitted ÷ observed) over every fitted class's three quantiles: the fit's typical error as a ratio − 1. */
  typicalError: number;
  /** Output tokens per image by model, quality and size: observed beside the catalogue's (written where they differ). */
  tokens: TokenCell[];
  /** The provider's own limits as its x-ratelimit-limit-* headers said them, per model (largest seen), and the tier they are. */
  limitsSeen: LimitsSeen[];
  /** Tokens per reference image per model (from edits whose usage split image tokens out): observed beside the catalogue's (written where they differ). */
  inputImageTokens: InputImageTokensFit[];
  /** How the provider answered: limit 429s, contention 429s and 503s, answers without rate-limit headers. */
  upstream: UpstreamBehaviour;
}

/** Output tokens of one image of a class, as a catalogue says. */
const classTokens = (catalogue: Catalogue, k: ClassKey): number => outputTokens(catalogue.factsFor(k.model).tokens, qualityOf(k.quality), parseWxH(k.size) ?? { width: 1024, height: 1024 });

interface Observed {
  key: ClassKey;
  name: string;
  service: number[];
  tokens: number[];
  inputTokens: number[];
}

/**
 * Fits a mock profile to a trace: output tokens per model, quality and size and the
 * provider's limits where they differ from the catalogue (calibrate-facts.ts), how it
 * answered overload, and the latency. The mock times a request as the profile's
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
  const baseCatalogue = catalogueOf(base);
  const minSamples = o.minSamples ?? 20;
  // Tokens and limits first: the mock times a request by its tokens, so the latency is fitted on the fitted counts.
  const tokens = fitTokens(lines, baseCatalogue);
  const limits = fitLimits(lines, baseCatalogue, base.limits.requestsHeader, o.tier);
  const references = fitInputImageTokens(lines, baseCatalogue);
  const overrides: Record<string, ModelOverride> = {};
  for (const [id, over] of [...Object.entries(tokens.models), ...Object.entries(limits.models), ...Object.entries(references.models)]) overrides[id] = { ...overrides[id], ...over };
  const models: Record<string, ModelOverride> = { ...base.models };
  for (const [id, over] of Object.entries(overrides)) models[id] = { ...base.models[id], ...over };
  const catalogue = Object.keys(overrides).length ? new Catalogue(undefined, models, 'calibrated profile', base.defaultModel) : baseCatalogue;
  const upstream = upstreamBehaviour(lines);
  const byClass = new Map<string, Observed>();
  for (const line of lines) {
    const traced = classKeyOf(line);
    if (!traced) continue;
    // The provider times a request by what it asks, not by the gateway priority it waited at: one class for every priority.
    const { priority: _waitedAt, ...key } = traced;
    const name = classNameOf(key);
    const c: Observed = byClass.get(name) ?? { key, name, service: [], tokens: [], inputTokens: [] };
    byClass.set(name, c);
    // Only answers that ran once on the provider time the provider: a retry adds its backoff.
    if (line.status !== 200 || !line.completed || line.attempts !== 1) continue;
    c.service.push(Math.max(0, line.latencyMs - (line.queueMs ?? 0)) / line.timeScale);
    if (line.usage && line.n) c.tokens.push(line.usage.outputTokens / line.n);
    if (line.usage) c.inputTokens.push(line.usage.inputTokens);
  }
  const fitted = [...byClass.values()].filter((c) => c.service.length >= minSamples);
  const tooFew = [...byClass.values()].filter((c) => c.service.length < minSamples).map((c) => ({ class: c.name, samples: c.service.length }));

  const refTokens = referenceTokens(base, catalogue);
  // What the mock's latency model reads of a class (its LatencyRequest), made once per class.
  const requestOf = (k: ClassKey): LatencyRequest => ({
    tokens: classTokens(catalogue, k),
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
    return {
      class: c.name,
      samples: c.service.length,
      observed: q,
      fitted: { p50: best.ref.p50 * f, p95: best.ref.p95 * f, p99: best.ref.p99 * f },
      outputTokens: { observed: median(c.tokens), catalogue: classTokens(baseCatalogue, c.key) },
      inputTokens: median(c.inputTokens),
    };
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
      description: `${baseName} with latency fitted to ${lines.length} traced requests (${fits.length} classes)${Object.keys(tokens.models).length ? ', output tokens' : ''}${Object.keys(limits.models).length ? ', tier limits' : ''}${Object.keys(references.models).length ? ', reference image tokens' : ''} as observed`,
      latency: { p50, p95, p99, fixedShare: best.fixedShare, perInputImage: best.perInputImage, max: Math.max(base.latency.max, Math.ceil((1.5 * longest) / 1000) * 1000) },
      // The trace's times already hold the provider's contention at the load it saw: the base's background tenants and slowdown would count it twice.
      // Overload answered as the provider answered it: 429 without a limit code, or 503 "engine overloaded".
      pool: { background: { kind: 'none' }, slowdown: [[0, 1]], ...(upstream.contention429 + upstream.status503 > 0 ? { contention: { status: upstream.contention429 > upstream.status503 ? 429 : 503 } } : {}) },
      ...(Object.keys(overrides).length ? { models: overrides } : {}),
      // A provider that never sent x-ratelimit-* headers (seen on the images endpoint): the mock omits them too.
      ...(upstream.answers > 0 && upstream.withoutHeaders === upstream.answers ? { limits: { omitHeaders: true as const } } : {}),
    },
    fits,
    tooFew,
    typicalError,
    tokens: tokens.cells,
    limitsSeen: limits.seen,
    inputImageTokens: references.fits,
    upstream,
  };
}
