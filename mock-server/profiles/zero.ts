import type { ProfileInput } from './schema.ts';

/** No latency, no contention, limits too high to reach: measures the harness itself (bench/). */
export const zeroProfile: ProfileInput = {
  name: 'zero',
  description: 'zero latency, effectively unlimited: for measuring load generators and the mock itself',
  latency: { p50: 0, p95: 0, p99: 0, min: 0 },
  pool: { slots: 1_000_000, queue: 0 },
  limits: {
    tiers: { '0': null, '1': { rpm: 1e12 }, '2': { rpm: 1e12 }, '3': { rpm: 1e12 }, '4': { rpm: 1e12 }, '5': { rpm: 1e12 } },
    requestsHeader: 'rpm',
  },
};
