import type { ProfileInput } from './schema.ts';

/**
 * Today's images API (REFERENCE.md §1): every catalogue model, gpt-image-1 and DALL·E
 * answered as shut down, each model family with its own limits from the catalogue's tier
 * table (IPM / TPM; the free tier has no access). Latency: OpenAI publishes no seconds;
 * community reports put medium 1024² at ~15–40 s and say complex prompts take up to 2
 * minutes. The shared pool carries a diurnal background load, so big tiers meet
 * contention at the daily peak even within their limits.
 */
export const openaiProfile: ProfileInput = {
  name: 'openai',
  description: "today's models from the catalogue: tier tables (IPM/TPM) per model, 403 for free/unverified, limit headers, diurnal GPU load",
  serve: 'all',
  defaultModel: 'gpt-image-1.5',
  latency: { reference: { model: 'gpt-image-1.5', quality: 'medium', size: '1024x1024' }, p50: '20s', p95: '45s', p99: '70s', fixedShare: 0.3, min: '2s', max: '180s' },
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
    bucket: 'per-model',
  },
  upgrades: [],
  faults: [],
};
