import type { ProfileInput } from './schema.ts';

/**
 * The seed article's scenario: ~3000 RPM at tier 1, P50 25 s / P95 55 s / P99 90 s,
 * +20 % latency at 10 concurrent, +60 % at 50, contention 429s past ~100 concurrent.
 * The article gives tier 1 only; tiers 2–5 scale it by OpenAI's IPM ratios (×4, ×10, ×30, ×50).
 */
export const articleProfile: ProfileInput = {
  name: 'article',
  description: 'the seed article: 3000 RPM at tier 1, P50 25 s / P95 55 s / P99 90 s, 429 storms past ~100 concurrent',
  // The article is about gpt-image-1, so here it is still running.
  serve: ['gpt-image-1'],
  defaultModel: 'gpt-image-1',
  models: { 'gpt-image-1': { status: { state: 'active' } } },
  latency: { p50: '25s', p95: '55s', p99: '90s', fixedShare: 0.3, min: '3s', max: '180s' },
  pool: {
    slots: 100,
    queue: 0,
    slowdown: [
      [0, 1],
      [1, 1],
      [10, 1.2],
      [50, 1.6],
      [100, 2],
    ],
    background: { kind: 'none' },
    contention: { status: 429, retryAfter: '1s' },
  },
  limits: {
    window: '60s',
    requestsHeader: 'rpm',
    retryAfter: 'none',
    bucket: 'shared',
    tiers: {
      '0': null,
      '1': { rpm: 3000 },
      '2': { rpm: 12_000 },
      '3': { rpm: 30_000 },
      '4': { rpm: 90_000 },
      '5': { rpm: 150_000 },
    },
  },
  upgrades: [{ fromTier: 1, toTier: 2, after: '36h' }],
  faults: [],
};
