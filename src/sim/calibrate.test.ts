import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LatencyModel } from '../../mock-server/model/latency.ts';
import { referenceTokens } from '../../mock-server/model/latency-request.ts';
import { catalogueOf, loadProfile } from '../../mock-server/profiles/index.ts';
import { createRng } from '../core/rng.ts';
import { probit } from '../core/probit.ts';
import type { TraceLine } from '../gateway/trace-line.ts';
import { inputImageTokens, outputTokens } from '../openai/tokens.ts';
import { parseWxH } from '../openai/sizes.ts';
import { calibrate } from './calibrate.ts';

const KNOWN = { p50: 15_000, p95: 40_000, p99: 60_000, fixedShare: 0.5, perInputImage: 0.3 };

/**
 * A trace the mock's own latency model would make: for each class, `n` service times at
 * evenly spread probabilities (its exact quantiles), through a gateway that queued each for
 * `queueMs` at time scale 0.01 — so calibrate must undo the queue and the scale.
 */
function traceOf(classes: { quality: 'low' | 'medium' | 'high'; size: string; n?: number; inputs?: number; count: number }[]): TraceLine[] {
  const profile = loadProfile('openai', { latency: { ...KNOWN, max: 3_600_000 } });
  const catalogue = catalogueOf(profile);
  const model = new LatencyModel(profile.latency, createRng(1), referenceTokens(profile, catalogue));
  const lines: TraceLine[] = [];
  let at = Date.parse('2026-12-01T10:00:00Z');
  for (const c of classes) {
    const [w, h] = c.size.split('x').map(Number) as [number, number];
    const tokens = outputTokens(catalogue.factsFor('gpt-image-1.5').tokens, c.quality, { width: w, height: h });
    const factor = model.factor({ tokens, format: 'png', n: c.n ?? 1, inputImages: c.inputs ?? 0 });
    for (let i = 0; i < c.count; i++) {
      const service = model.atZ(probit((i + 0.5) / c.count)) * factor;
      const queueMs = 30 + (i % 7) * 10;
      at += 50;
      lines.push({
        v: 1, at: new Date(at).toISOString(), timeScale: 0.01, client: 'app', endpoint: c.inputs ? 'edits' : 'generations', model: 'gpt-image-1.5', quality: c.quality, size: c.size, n: c.n ?? 1, format: 'png',
        stream: false, partialImages: 0, inputImages: c.inputs ?? 0, inputImageSizes: Array(c.inputs ?? 0).fill('1024x1024'), mask: false, requestBytes: 200, status: 200, completed: true, source: 'upstream', upstream: 'openai',
        upstreamStatus: 200, errorType: null, errorCode: null, latencyMs: service * 0.01 + queueMs, firstImageMs: null, queueMs, attempts: 1, usage: { inputTokens: 20, outputTokens: tokens * (c.n ?? 1) },
        rateLimit: { limitRequests: 250, remainingRequests: 249, resetRequests: '240ms', limitTokens: 8_000_000, remainingTokens: 7_990_000, resetTokens: '1ms' },
      });
    }
  }
  return lines;
}

describe('calibrate', () => {
  const lines = traceOf([
    { quality: 'medium', size: '1024x1024', count: 400 },
    { quality: 'low', size: '1024x1024', count: 300 },
    { quality: 'high', size: '1024x1536', count: 200 },
    { quality: 'medium', size: '1024x1024', inputs: 2, count: 200 },
    { quality: 'high', size: '1536x1024', inputs: 3, count: 12 },
  ]);

  it("recovers the latency model that made the trace: the reference quantiles, the fixed share and the time per reference", () => {
    const c = calibrate(lines);
    const l = c.profile.latency;
    expect(l.p50! / KNOWN.p50).toBeCloseTo(1, 1);
    expect(l.p95! / KNOWN.p95).toBeCloseTo(1, 1);
    expect(l.p99! / KNOWN.p99).toBeCloseTo(1, 1);
    expect(Math.abs(l.fixedShare! - KNOWN.fixedShare)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(l.perInputImage! - KNOWN.perInputImage)).toBeLessThanOrEqual(0.04);
    expect(c.typicalError).toBeLessThan(0.03);
    for (const f of c.fits) for (const p of ['p50', 'p95', 'p99'] as const) expect(Math.abs(f.fitted[p] / f.observed[p] - 1), `${f.class} ${p}`).toBeLessThan(0.05);
  });

  it('fits one class whatever priorities its requests waited at: the provider times what is asked, not the queue', () => {
    const ranked = lines.map((l, i) => ({ ...l, priority: (['high', 'normal', 'low'] as const)[i % 3] }));
    const [a, b] = [calibrate(lines), calibrate(ranked)];
    expect(b.fits.map((f) => [f.class, f.samples])).toEqual(a.fits.map((f) => [f.class, f.samples]));
    expect(b.profile.latency).toEqual(a.profile.latency);
  });

  it('names a class with too few samples instead of fitting it, and reports the limits and the tokens the trace showed', () => {
    const c = calibrate(lines);
    expect(c.tooFew).toEqual([{ class: 'edit-high-1536x1024-3ref-gpt-image-1.5', samples: 12 }]);
    expect(c.fits.map((f) => f.class)).not.toContain('edit-high-1536x1024-3ref-gpt-image-1.5');
    // 250 images/min and 8M tokens/min are the catalogue's tier 5: nothing to write.
    expect(c.limitsSeen).toEqual([{ model: 'gpt-image-1.5', requests: 250, tokens: 8_000_000, tier: 5 }]);
    for (const f of c.fits) expect(f.outputTokens.observed).toBe(f.outputTokens.catalogue);
    expect(c.profile.models).toBeUndefined();
    expect(c.profile.pool.contention).toBeUndefined();
    expect(c.profile.limits).toBeUndefined();
  });

  it('writes the output tokens the provider charged where the catalogue says otherwise, and times requests by them', () => {
    const heavier = lines.map((l) => (l.quality === 'medium' && l.size === '1024x1024' && l.usage ? { ...l, usage: { ...l.usage, outputTokens: Math.round(l.usage.outputTokens * 1.5) } } : l));
    const c = calibrate(heavier);
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-cal-')), 'calibrated.yaml');
    writeFileSync(file, stringify(c.profile));
    const facts = catalogueOf(loadProfile(file)).factsFor('gpt-image-1.5');
    expect(facts.tokens.source).toBe('observed');
    expect(outputTokens(facts.tokens, 'medium', { width: 1024, height: 1024 })).toBe(1584);
    // Cells the trace agrees on keep the catalogue's figure.
    expect(outputTokens(facts.tokens, 'high', { width: 1024, height: 1536 })).toBe(6240);
    expect(c.tokens.find((t) => t.quality === 'medium')).toMatchObject({ observed: 1584, catalogue: 1056, size: '1024x1024' });
  });

  it('for a model priced by pixels, fits the 1024² figure per quality at the catalogue\'s exponent', () => {
    const facts = catalogueOf(loadProfile('openai')).factsFor('gpt-image-2').tokens;
    const sizes = [{ width: 1024, height: 1024 }, { width: 1536, height: 1024 }];
    const onTwo = lines.slice(0, 200).map((l, i) => {
      const dims = sizes[i % 2]!;
      return { ...l, model: 'gpt-image-2', quality: 'high', size: `${dims.width}x${dims.height}`, usage: { inputTokens: 20, outputTokens: Math.round(1.2 * outputTokens(facts, 'high', dims)) } };
    });
    const fitted = calibrate(onTwo).profile.models?.['gpt-image-2']?.tokens;
    if (fitted?.kind !== 'pixels') throw new Error(`expected pixel tokens, got ${JSON.stringify(fitted)}`);
    expect(fitted.exponent).toBe(facts.kind === 'pixels' ? facts.exponent : NaN);
    expect(fitted.at1024.high! / (1.2 * outputTokens(facts, 'high', sizes[0]!))).toBeCloseTo(1, 2);
    expect(fitted.at1024.low).toBe(facts.kind === 'pixels' ? facts.at1024.low : NaN);
  });

  it("fits the tokens of each reference image from edits whose usage split them out, and writes them where the catalogue says otherwise", () => {
    const facts = catalogueOf(loadProfile('openai')).factsFor('gpt-image-1.5').inputImageTokens;
    const truth = { ...facts, base: facts.base + 40, perTile: Math.round(facts.perTile * 1.3) };
    const sizes = [['512x512'], ['1024x1024'], ['1536x1024', '512x512'], ['1024x1024', '1024x1024', '256x256']];
    const edits = lines.slice(0, 240).map((l, i) => {
      const refs = sizes[i % sizes.length]!;
      const imageTokens = refs.reduce((a, s) => a + inputImageTokens(truth, parseWxH(s)!, undefined), 0);
      return { ...l, endpoint: 'edits' as const, inputImages: refs.length, inputImageSizes: refs, usage: { inputTokens: 20 + imageTokens, outputTokens: l.usage!.outputTokens, inputImageTokens: imageTokens } };
    });
    const c = calibrate(edits);
    expect(c.inputImageTokens).toEqual([{ model: 'gpt-image-1.5', samples: 240, observed: { base: truth.base, perTile: truth.perTile }, catalogue: { base: facts.base, perTile: facts.perTile }, separated: true }]);
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-cal-')), 'calibrated.yaml');
    writeFileSync(file, stringify(c.profile));
    const loaded = catalogueOf(loadProfile(file)).factsFor('gpt-image-1.5').inputImageTokens;
    expect(loaded).toMatchObject({ base: truth.base, perTile: truth.perTile, tile: facts.tile, fitWithin: facts.fitWithin, source: 'observed' });
    // One tile count only: base and perTile cannot be told apart, so the catalogue's pair is scaled by what the trace charged.
    const alike = edits.map((l) => ({ ...l, inputImages: 1, inputImageSizes: ['1024x1024'], usage: { ...l.usage, inputImageTokens: Math.round(1.5 * inputImageTokens(facts, { width: 1024, height: 1024 }, undefined)) } }));
    const scaled = calibrate(alike).inputImageTokens[0]!;
    expect(scaled.separated).toBe(false);
    expect(scaled.observed.base / facts.base).toBeCloseTo(1.5, 1);
    expect(scaled.observed.perTile / facts.perTile).toBeCloseTo(1.5, 1);
    // A trace that agrees with the catalogue writes nothing; lines without the split (older gateways) are not read.
    const agreeing = edits.map((l) => ({ ...l, usage: { ...l.usage, inputImageTokens: l.inputImageSizes!.reduce((a, s) => a + inputImageTokens(facts, parseWxH(s)!, undefined), 0) } }));
    expect(calibrate(agreeing).profile.models).toBeUndefined();
    expect(calibrate(edits.map((l) => ({ ...l, usage: { inputTokens: l.usage.inputTokens, outputTokens: l.usage.outputTokens } }))).inputImageTokens).toEqual([]);
  });

  it('writes limits that are no catalogue tier\'s at the highest tier they reach (or --tier), and the overload answer the provider gave', () => {
    const custom = lines.map((l, i) => ({
      ...l,
      rateLimit: l.rateLimit && { ...l.rateLimit, limitRequests: 60, limitTokens: 900_000 },
      // One in ten last attempts a contention 429 (no limit code), one in 50 a limit 429.
      ...(i % 10 === 0 ? { status: 429, upstreamStatus: 429, errorType: 'requests', errorCode: null } : i % 50 === 1 ? { status: 429, upstreamStatus: 429, errorType: 'requests', errorCode: 'rate_limit_exceeded' } : {}),
    }));
    const c = calibrate(custom);
    // 60 IPM / 900k TPM reach tier 3 (50 / 800k), not tier 4 (150 / 3M).
    expect(c.limitsSeen).toEqual([{ model: 'gpt-image-1.5', requests: 60, tokens: 900_000, tier: 3 }]);
    expect(c.upstream).toMatchObject({ answers: custom.length, contention429: 112, limit429: 23, status503: 0 });
    expect(c.profile.pool.contention).toEqual({ status: 429 });
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-cal-')), 'calibrated.yaml');
    writeFileSync(file, stringify(c.profile));
    const profile = loadProfile(file);
    expect(profile.pool.contention.status).toBe(429);
    const table = catalogueOf(profile).factsFor('gpt-image-1.5').tiers.table;
    expect(table['3']).toEqual({ ipm: 60, tpm: 900_000 });
    expect(table['4']).toEqual({ ipm: 150, tpm: 3_000_000 });
    expect(calibrate(custom, { tier: 2 }).limitsSeen[0]!.tier).toBe(2);
    // A provider that sent no rate-limit headers at all: the mock omits them too.
    expect(calibrate(lines.map((l) => ({ ...l, rateLimit: null }))).profile.limits).toEqual({ omitHeaders: true });
  });

  it('writes a profile the mock loads: the base extended, its background tenants and slowdown off (the trace already holds them)', () => {
    const c = calibrate(lines);
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-cal-')), 'calibrated.yaml');
    writeFileSync(file, stringify(c.profile));
    const profile = loadProfile(file);
    expect(profile.latency).toMatchObject({ p50: c.profile.latency.p50, fixedShare: c.profile.latency.fixedShare });
    expect(profile.pool.background).toEqual({ kind: 'none' });
    expect(profile.latency.max).toBeGreaterThanOrEqual(Math.max(...c.fits.map((f) => f.observed.p99)));
  });

  it('keeps a factor the trace cannot tell apart at the base profile\'s', () => {
    const c = calibrate(traceOf([{ quality: 'medium', size: '1024x1024', count: 100 }]));
    const base = loadProfile('openai').latency;
    expect(c.profile.latency).toMatchObject({ fixedShare: base.fixedShare, perInputImage: base.perInputImage });
    expect(c.profile.latency.p50! / KNOWN.p50).toBeCloseTo(1, 1);
  });
});
