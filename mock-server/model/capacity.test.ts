import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/openai/catalogue.ts';
import { imageCost } from '../../src/openai/cost.ts';
import { createRng } from '../../src/core/rng.ts';
import { validateImageRequest } from '../../src/openai/request.ts';
import { loadProfile } from '../profiles/index.ts';
import { theoreticalCapacity } from './capacity.ts';
import { LatencyModel, Z95, Z99 } from './latency.ts';

const request = (body: object) => validateImageRequest('application/json', new TextEncoder().encode(JSON.stringify({ model: 'gpt-image-1.5', prompt: 'a cat', ...body })));
const reference = { tokens: 1056, format: 'png', n: 1, inputImages: 0 } as const;

describe('LatencyModel.mean', () => {
  it('is the lognormal mean exp(μ + σ²/2) when the three quantiles lie on one lognormal', () => {
    const sigma = 0.5;
    const latency = { p50: '10s', p95: `${10_000 * Math.exp(sigma * Z95)}ms`, p99: `${10_000 * Math.exp(sigma * Z99)}ms`, min: '0ms', max: '1h' };
    const model = new LatencyModel(loadProfile('article', { latency }).latency, createRng(1), 1056);
    expect(model.mean(reference) / (10_000 * Math.exp(sigma ** 2 / 2))).toBeCloseTo(1, 3);
  });

  it('agrees with the mean of 100 000 samples, clamping included', () => {
    const profile = loadProfile('openai');
    const model = new LatencyModel(profile.latency, createRng(5), 1056);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += model.sample(reference);
    expect(model.mean(reference) / (sum / 100_000)).toBeCloseTo(1, 2);
  });
});

describe('theoreticalCapacity', () => {
  it('is the tier IPM for the default stack (openai tier 3, low-quality requests)', () => {
    const low = request({ quality: 'low', output_format: 'webp' });
    const c = theoreticalCapacity(loadProfile('openai'), CATALOGUE, 3, low)!;
    expect(c.bound).toBe('ipm');
    expect(c.imagesPerMinute).toBe(50);
    // Half the 256 slots are free on average (diurnal background 0.5 ± 0.3 near phase 0 over 10 min).
    expect(c.bounds.gpu).toBeGreaterThan(10 * c.bounds.ipm!);
    // 800k tokens/min ÷ (272 output tokens, gpt-image-1's table that 1.5 borrows, + the prompt's estimate).
    expect(c.bounds.tpm).toBeCloseTo(800_000 / imageCost(low).tpm, 6);
    expect(imageCost(low).tpm).toBeGreaterThan(272);
  });

  it('is slots ÷ mean service time when the GPU pool binds', () => {
    const profile = loadProfile('openai', { pool: { slots: 4, background: { kind: 'none' } } });
    const c = theoreticalCapacity(profile, CATALOGUE, 5, request({ quality: 'high', n: 2 }))!;
    expect(c.bound).toBe('gpu');
    expect(c.imagesPerMinute).toBeCloseTo(((4 * 60_000) / c.meanServiceMs) * 2, 6);
    expect(theoreticalCapacity(profile, CATALOGUE, 0, request({}))).toBeUndefined();
  });
});
