import type { LimiterConfig } from './config.ts';
import type { Dimension } from './cost.ts';
import type { HeaderSource } from './outcome.ts';

export interface HeaderReading {
  dim: Dimension;
  limit: number | undefined;
  remaining: number | undefined;
}

/** A header's value as a number ≥ 0; undefined when absent, empty or not one. */
export const headerNumber = (v: string | null | undefined): number | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/**
 * OpenAI's x-ratelimit-{limit,remaining}-{requests,tokens}, mapped onto our budgets:
 * tokens → TPM, requests → IPM or RPM (what the images endpoint's "requests" counts is a
 * config choice; the gpt-image tier table is in images).
 */
export function readRateLimitHeaders(h: HeaderSource, requestsHeader: LimiterConfig['budgets']['requestsHeader']): HeaderReading[] {
  const out: HeaderReading[] = [];
  const requests = { dim: requestsHeader, limit: headerNumber(h.get('x-ratelimit-limit-requests')), remaining: headerNumber(h.get('x-ratelimit-remaining-requests')) };
  const tokens = { dim: 'tpm' as const, limit: headerNumber(h.get('x-ratelimit-limit-tokens')), remaining: headerNumber(h.get('x-ratelimit-remaining-tokens')) };
  for (const r of [requests, tokens]) if (r.limit !== undefined || r.remaining !== undefined) out.push(r);
  return out;
}
