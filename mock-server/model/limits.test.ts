import { describe, expect, it } from 'vitest';
import { AccountLimits } from './limits.ts';

const limits = { window: 60_000, tiers: {}, bucket: 'per-model', requestsHeader: 'ipm', retryAfter: 'none', omitHeaders: false } as const;
const cost = (ipm: number, tpm: number) => ({ rpm: 1, ipm, tpm });

describe('AccountLimits', () => {
  it('admits up to the limit, then refuses with the wait until enough has refilled', () => {
    const account = new AccountLimits(limits, { ipm: 5, tpm: 100_000 }, 0);
    for (let i = 0; i < 5; i++) expect(account.admit(cost(1, 1056), 0)).toEqual({ ok: true });
    const refused = account.admit(cost(1, 1056), 0);
    expect(refused).toEqual({ ok: false, tooLarge: false, dimension: 'ipm', limit: 5, used: 5, requested: 1, waitMs: 12_000 });
    expect(account.admit(cost(1, 1056), 11_999).ok).toBe(false);
    expect(account.admit(cost(1, 1056), 12_000).ok).toBe(true);
  });

  it('charges every dimension atomically, and nothing when refused', () => {
    const account = new AccountLimits(limits, { ipm: 10, tpm: 5000 }, 0);
    expect(account.admit(cost(4, 4160), 0).ok).toBe(true);
    expect(account.admit(cost(1, 1056), 0)).toMatchObject({ ok: false, dimension: 'tpm' });
    expect(account.remaining(0)).toEqual({ ipm: 6, tpm: 840 });
  });

  it('says when a request can never fit', () => {
    const account = new AccountLimits(limits, { ipm: 5 }, 0);
    expect(account.admit(cost(10, 0), 0)).toEqual({ ok: false, tooLarge: true, dimension: 'ipm', limit: 5, requested: 10 });
  });

  it('reports OpenAI headers: limit, whole remaining, reset until full as a Go duration', () => {
    const account = new AccountLimits(limits, { ipm: 5, tpm: 100_000 }, 0);
    account.admit(cost(1, 1056), 0);
    expect(account.headers(0)).toEqual({
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '12s',
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': '98944',
      'x-ratelimit-reset-tokens': '634ms',
    });
    expect(account.headers(6_000)['x-ratelimit-reset-requests']).toBe('6s');
  });

  it('keeps what was used when the tier changes', () => {
    const account = new AccountLimits(limits, { ipm: 5 }, 0);
    for (let i = 0; i < 5; i++) account.admit(cost(1, 0), 0);
    account.setTier({ ipm: 20 }, 0);
    expect(account.remaining(0)).toEqual({ ipm: 15 });
  });
});
