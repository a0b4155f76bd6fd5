import { parseGoDuration } from '../core/duration.ts';
import { ATTEMPT_KINDS } from '../metrics/catalogue.ts';
import type { HeaderSource, Observed } from './outcome.ts';

/**
 * - `ok`: done.
 * - `limit`: an account limit 429 (rate_limit_exceeded). Wait for retry-after / reset,
 *   however long, and pause everyone: the whole account is over.
 * - `contention`: the provider is overloaded (429 without a limit code, 503). Back off and
 *   shrink concurrency.
 * - `server`: 500/502/504, resets, timeouts. Retry with backoff; feeds the circuit breaker.
 * - `fatal`: insufficient_quota, "Request too large", 400/401/403/404/422. Retrying cannot help.
 * - `cancelled`: the caller gave up.
 */
export type FailureKind = (typeof ATTEMPT_KINDS)[number];

export interface Classified {
  kind: FailureKind;
  /** How long the provider asked us to wait, from retry-after-ms, retry-after or the reset headers. */
  retryAfterMs: number | undefined;
}

function header(h: HeaderSource | undefined, name: string): string | undefined {
  const v = h?.get(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** retry-after-ms, then retry-after (seconds or an HTTP date), at any length. */
export function retryAfterMs(h: HeaderSource | undefined, now: number): number | undefined {
  const ms = header(h, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = header(h, 'retry-after');
  if (ra === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The longest reset among limits that are exhausted (remaining 0), as OpenAI reports them. */
export function exhaustedResetMs(h: HeaderSource | undefined): number | undefined {
  let wait: number | undefined;
  for (const kind of ['requests', 'tokens']) {
    const remaining = header(h, `x-ratelimit-remaining-${kind}`);
    const reset = header(h, `x-ratelimit-reset-${kind}`);
    if (remaining === undefined || reset === undefined || Number(remaining) > 0) continue;
    try {
      wait = Math.max(wait ?? 0, parseGoDuration(reset));
    } catch {
      // an unreadable reset is no hint
    }
  }
  return wait;
}

/** "Please try again in 12s." from OpenAI's limit message. */
export function hintedWaitMs(message: string | undefined): number | undefined {
  const m = message ? /try again in ([0-9.]+(?:ms|s|m|h)(?:[0-9.]+(?:ms|s))?)/.exec(message) : null;
  if (!m) return undefined;
  try {
    return parseGoDuration(m[1]!);
  } catch {
    return undefined;
  }
}

const OK: Classified = Object.freeze({ kind: 'ok', retryAfterMs: undefined });
const CANCELLED: Classified = Object.freeze({ kind: 'cancelled', retryAfterMs: undefined });

export function classify(o: Observed, now: number): Classified {
  if (o.aborted) return CANCELLED;
  const status = o.status ?? 0;
  if (!o.networkError && status >= 200 && status < 400) return OK;
  const wait = retryAfterMs(o.headers, now);
  if (o.networkError) return { kind: 'server', retryAfterMs: wait };
  if (status === 429) {
    if (o.code === 'insufficient_quota' || o.message?.startsWith('Request too large')) return { kind: 'fatal', retryAfterMs: undefined };
    const limit = o.code === 'rate_limit_exceeded' || o.type === 'requests' || o.type === 'tokens' || exhaustedResetMs(o.headers) !== undefined;
    if (limit) return { kind: 'limit', retryAfterMs: wait ?? hintedWaitMs(o.message) ?? exhaustedResetMs(o.headers) };
    return { kind: 'contention', retryAfterMs: wait };
  }
  if (status === 503) return { kind: 'contention', retryAfterMs: wait };
  if (status === 408 || status === 409 || status >= 500) return { kind: 'server', retryAfterMs: wait };
  return { kind: 'fatal', retryAfterMs: undefined };
}
