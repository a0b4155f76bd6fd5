import type { Catalogue } from '../openai/catalogue.ts';
import type { ModelOverride, QualityName, TierLimits } from '../openai/catalogue-schema.ts';
import type { TraceLine } from '../gateway/trace-line.ts';
import { QUALITY_NAMES } from '../openai/catalogue-schema.ts';
import { parseWxH } from '../openai/sizes.ts';
import { inputImageTokens, outputTokens } from '../openai/tokens.ts';

/** Linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export const median = (xs: readonly number[]): number | null => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5) : null);

/** One model's output tokens per image as the trace showed them, by quality and size, beside the catalogue's. */
export interface TokenCell {
  model: string;
  quality: QualityName;
  size: string;
  samples: number;
  observed: number;
  catalogue: number;
}

/** A share off the catalogue below which the trace is taken to agree with it (usage is exact; rounding is not). */
const AGREES = 0.02;

/**
 * Output tokens per image, fitted: for each model the trace used, the median tokens per
 * image of each quality × size it answered (`usage.output_tokens ÷ n`), written over the
 * catalogue's — cell by cell into a table, or, for a model priced by pixels, as the 1024²
 * figure per quality that gives the observed counts at the catalogue's exponent (the median
 * over sizes). A model whose every cell agrees with the catalogue gets no override. The
 * mock then charges TPM and times each request from these counts, as the provider did.
 */
export function fitTokens(lines: readonly TraceLine[], catalogue: Catalogue): { cells: TokenCell[]; models: Record<string, ModelOverride> } {
  const seen = new Map<string, { model: string; quality: QualityName; size: string; tokens: number[] }>();
  for (const l of lines) {
    if (l.status !== 200 || !l.completed || !l.usage || !l.model || !l.n || !l.size || !l.quality) continue;
    if (!(QUALITY_NAMES as readonly string[]).includes(l.quality) || !parseWxH(l.size)) continue;
    const key = `${l.model} ${l.quality} ${l.size}`;
    const cell = seen.get(key) ?? { model: l.model, quality: l.quality as QualityName, size: l.size, tokens: [] };
    seen.set(key, cell);
    cell.tokens.push(l.usage.outputTokens / l.n);
  }
  const cells: TokenCell[] = [];
  for (const c of seen.values()) {
    const known = catalogue.get(c.model);
    if (!known) continue;
    const catalogued = outputTokens(known.tokens, c.quality, parseWxH(c.size)!);
    cells.push({ model: c.model, quality: c.quality, size: c.size, samples: c.tokens.length, observed: Math.round(median(c.tokens)!), catalogue: catalogued });
  }
  cells.sort((a, b) => a.model.localeCompare(b.model) || QUALITY_NAMES.indexOf(a.quality) - QUALITY_NAMES.indexOf(b.quality) || a.size.localeCompare(b.size));
  const models: Record<string, ModelOverride> = {};
  for (const model of new Set(cells.map((c) => c.model))) {
    const own = cells.filter((c) => c.model === model);
    if (own.every((c) => Math.abs(c.observed / Math.max(c.catalogue, 1) - 1) <= AGREES)) continue;
    const tokens = catalogue.factsFor(model).tokens;
    if (tokens.kind === 'table') {
      const table: Partial<Record<QualityName, Record<string, number>>> = {};
      for (const [q, row] of Object.entries(tokens.table)) table[q as QualityName] = { ...row };
      for (const c of own) table[c.quality] = { ...table[c.quality], [c.size]: c.observed };
      models[model] = { tokens: { kind: 'table', table, source: 'observed' } };
    } else {
      const at1024: Partial<Record<QualityName, number>> = { ...tokens.at1024 };
      for (const q of new Set(own.map((c) => c.quality))) {
        const per = own.filter((c) => c.quality === q).map((c) => {
          const { width, height } = parseWxH(c.size)!;
          return c.observed / ((width * height) / (1024 * 1024)) ** tokens.exponent;
        });
        at1024[q] = Math.max(1, Math.round(median(per)!));
      }
      models[model] = { tokens: { kind: 'pixels', at1024, exponent: tokens.exponent, source: 'observed', calibration: [] } };
    }
  }
  return { cells, models };
}

/** One model's tokens per reference image (`base + perTile × tiles`) as the trace showed them, beside the catalogue's. */
export interface InputImageTokensFit {
  model: string;
  /** Edits answered with the image tokens split out (`usage.inputImageTokens`). */
  samples: number;
  observed: { base: number; perTile: number };
  catalogue: { base: number; perTile: number };
  /** Whether the trace's references were of more than one tile count: else `base` and `perTile` cannot be told apart, and both are scaled by one factor. */
  separated: boolean;
}

/**
 * Tokens per reference image, fitted: for each model, the edits whose usage split out image
 * tokens give `image tokens = base × references + perTile × Σ tiles` (tiles as the catalogue
 * cuts each reference's size, `tile` and `fitWithin` kept), solved by least squares. When
 * every reference had the same tile count the two cannot be told apart, so the catalogue's
 * pair is scaled by the median ratio. `input_fidelity: high` is not in a trace: its extra
 * tokens land in `base`. A model within 2 % of its catalogue gets no override; else the mock
 * charges TPM for references from the fitted pair (`source: observed`).
 */
export function fitInputImageTokens(lines: readonly TraceLine[], catalogue: Catalogue): { fits: InputImageTokensFit[]; models: Record<string, ModelOverride> } {
  const byModel = new Map<string, { refs: number; tiles: number; tokens: number }[]>();
  for (const l of lines) {
    const known = l.model ? catalogue.get(l.model) : undefined;
    if (l.status !== 200 || !l.completed || l.endpoint !== 'edits' || !known) continue;
    const tokens = l.usage?.inputImageTokens;
    const sizes = (l.inputImageSizes ?? []).map(parseWxH);
    if (tokens === undefined || sizes.length === 0 || sizes.some((d) => !d)) continue;
    const facts = known.inputImageTokens;
    // Tiles of the references, as the catalogue's own tiling counts them: its token formula at base 0 and one token a tile.
    const tiles = sizes.reduce((a, d) => a + (inputImageTokens({ ...facts, base: 0, perTile: 1 }, d!, undefined)), 0);
    const rows = byModel.get(known.id) ?? [];
    byModel.set(known.id, rows);
    rows.push({ refs: sizes.length, tiles, tokens });
  }
  const fits: InputImageTokensFit[] = [];
  const models: Record<string, ModelOverride> = {};
  for (const [model, rows] of byModel) {
    const facts = catalogue.factsFor(model).inputImageTokens;
    const cat = { base: facts.base, perTile: facts.perTile };
    const predicted = (b: number, t: number) => rows.map((r) => b * r.refs + t * r.tiles);
    // Normal equations of tokens ≈ base·refs + perTile·tiles.
    let [aa, ab, bb, ay, by] = [0, 0, 0, 0, 0];
    for (const r of rows) {
      aa += r.refs * r.refs;
      ab += r.refs * r.tiles;
      bb += r.tiles * r.tiles;
      ay += r.refs * r.tokens;
      by += r.tiles * r.tokens;
    }
    const det = aa * bb - ab * ab;
    const separated = new Set(rows.map((r) => r.tiles / r.refs)).size > 1 && Math.abs(det) > 1e-9 * aa * bb;
    let observed: { base: number; perTile: number };
    if (separated) {
      observed = { base: Math.max(0, Math.round((ay * bb - by * ab) / det)), perTile: Math.max(0, Math.round((aa * by - ab * ay) / det)) };
    } else {
      const atCatalogue = predicted(cat.base, cat.perTile);
      const k = median(rows.map((r, i) => r.tokens / Math.max(atCatalogue[i]!, 1)))!;
      observed = { base: Math.round(cat.base * k), perTile: Math.round(cat.perTile * k) };
    }
    fits.push({ model, samples: rows.length, observed, catalogue: cat, separated });
    const [fitted, catalogued] = [predicted(observed.base, observed.perTile), predicted(cat.base, cat.perTile)];
    const off = median(fitted.map((f, i) => Math.abs(f / Math.max(catalogued[i]!, 1) - 1)))!;
    if (off > AGREES) models[model] = { inputImageTokens: { ...observed, source: 'observed' } };
  }
  fits.sort((a, b) => a.model.localeCompare(b.model));
  return { fits, models };
}

/** The limits a model's answers carried (`x-ratelimit-limit-*`, the largest seen), and the catalogue tier they are, if any. */
export interface LimitsSeen {
  model: string;
  requests: number | null;
  tokens: number | null;
  /** The catalogue tier with exactly these limits (null: none has them). */
  tier: number | null;
}

const larger = (a: number | null, b: number | null): number | null => (b === null ? a : a === null ? b : Math.max(a, b));

/**
 * Limits learned from the provider's own headers: per model, the largest
 * `x-ratelimit-limit-requests` and `-tokens` seen (what the account was allowed), matched to
 * the catalogue's tier table. Limits that are no catalogue tier's (a custom agreement, a
 * table that moved) are written into the model's tier table at `tier` (given, or the
 * highest tier the limits reach), so the mock enforces what the provider did.
 */
export function fitLimits(
  lines: readonly TraceLine[],
  catalogue: Catalogue,
  requestsHeader: 'ipm' | 'rpm',
  tier?: number,
): { seen: LimitsSeen[]; models: Record<string, ModelOverride> } {
  const byModel = new Map<string, { requests: number | null; tokens: number | null }>();
  for (const l of lines) {
    if (!l.model || !l.rateLimit) continue;
    const s = byModel.get(l.model) ?? { requests: null, tokens: null };
    byModel.set(l.model, s);
    s.requests = larger(s.requests, l.rateLimit.limitRequests);
    s.tokens = larger(s.tokens, l.rateLimit.limitTokens);
  }
  const seen: LimitsSeen[] = [];
  const models: Record<string, ModelOverride> = {};
  for (const [model, s] of byModel) {
    const known = catalogue.get(model);
    if (!known) continue;
    const table = known.tiers.table;
    const agrees = (t: TierLimits | null): boolean => t !== null && (s.requests === null || t[requestsHeader] === s.requests) && (s.tokens === null || t.tpm === s.tokens);
    const match = Object.entries(table).find(([, t]) => agrees(t));
    if (match || (s.requests === null && s.tokens === null)) {
      seen.push({ model, ...s, tier: match ? Number(match[0]) : null });
      continue;
    }
    const reached = Object.entries(table)
      .filter(([, t]) => t !== null && (s.requests === null || (t[requestsHeader] ?? Infinity) <= s.requests) && (s.tokens === null || (t.tpm ?? Infinity) <= s.tokens))
      .map(([n]) => Number(n));
    const at = tier ?? (reached.length ? Math.max(...reached) : 1);
    const limits: TierLimits = { ...(table[String(at)] ?? {}) };
    if (s.requests !== null) limits[requestsHeader] = s.requests;
    if (s.tokens !== null) limits.tpm = s.tokens;
    models[model] = { tiers: { table: { ...table, [String(at)]: limits }, source: 'observed' } };
    seen.push({ model, ...s, tier: at });
  }
  return { seen, models };
}

/** How the provider answered overload, as far as last attempts show it. */
export interface UpstreamBehaviour {
  answers: number;
  /** 429s that named a limit (`rate_limit_exceeded`, `insufficient_quota`): the account's. */
  limit429: number;
  /** 429s that named none, and 503s: the provider's contention. */
  contention429: number;
  status503: number;
  /** Answers that carried no x-ratelimit-* headers (the images endpoint has been seen to omit them). */
  withoutHeaders: number;
}

const LIMIT_CODES = new Set(['rate_limit_exceeded', 'insufficient_quota']);

export function upstreamBehaviour(lines: readonly TraceLine[]): UpstreamBehaviour {
  const u: UpstreamBehaviour = { answers: 0, limit429: 0, contention429: 0, status503: 0, withoutHeaders: 0 };
  for (const l of lines) {
    if (l.upstreamStatus === null) continue;
    u.answers++;
    if (l.upstreamStatus === 429) {
      if (l.errorCode !== null && LIMIT_CODES.has(l.errorCode)) u.limit429++;
      else u.contention429++;
    }
    if (l.upstreamStatus === 503) u.status503++;
    if (!l.rateLimit || (l.rateLimit.limitRequests === null && l.rateLimit.limitTokens === null)) u.withoutHeaders++;
  }
  return u;
}
