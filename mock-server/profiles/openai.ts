import type { ProfileInput } from './schema.ts';

/**
 * OpenAI's published gpt-image-1 tier table (IPM / TPM); the free tier has no access.
 * Latency: OpenAI publishes no seconds; community reports put medium 1024² at ~15–40 s and
 * say complex prompts take up to 2 minutes. The shared pool carries a diurnal background
 * load, so big tiers meet contention at the daily peak even within their limits.
 */
export const openaiProfile: ProfileInput = {
  name: 'openai',
  description: 'gpt-image-1 as documented: tier table (IPM/TPM), 403 for free/unverified, limit headers, diurnal GPU load',
  model: 'gpt-image-1',
  aliases: ['gpt-image-1.5', 'gpt-image-2'],
  latency: { p50: '20s', p95: '45s', p99: '70s', fixedShare: 0.3, min: '2s', max: '180s' },
  pool: {
    slots: 256,
    queue: 64,
    queueTimeout: '60s',
    slowdown: [
      [0, 1],
      [128, 1.1],
      [256, 1.5],
    ],
    background: { kind: 'diurnal', mean: 0.5, amplitude: 0.3, period: '24h', phase: 0 },
    contention: { status: 503 },
  },
  limits: {
    window: '60s',
    requestsHeader: 'ipm',
    retryAfter: 'none',
    tiers: {
      '0': null,
      '1': { ipm: 5, tpm: 100_000 },
      '2': { ipm: 20, tpm: 250_000 },
      '3': { ipm: 50, tpm: 800_000 },
      '4': { ipm: 150, tpm: 3_000_000 },
      '5': { ipm: 250, tpm: 8_000_000 },
    },
  },
  upgrades: [],
  faults: [],
};
