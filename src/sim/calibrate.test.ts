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
import { outputTokens } from '../openai/tokens.ts';
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

  it('names a class with too few samples instead of fitting it, and reports the limits and the tokens the trace showed', () => {
    const c = calibrate(lines);
    expect(c.tooFew).toEqual([{ class: 'edit-high-1536x1024-3ref-gpt-image-1.5', samples: 12 }]);
    expect(c.fits.map((f) => f.class)).not.toContain('edit-high-1536x1024-3ref-gpt-image-1.5');
    expect(c.limitsSeen).toEqual({ 'gpt-image-1.5': { requests: 250, tokens: 8_000_000 } });
    for (const f of c.fits) expect(f.outputTokens.observed).toBe(f.outputTokens.catalogue);
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
