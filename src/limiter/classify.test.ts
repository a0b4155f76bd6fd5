import { describe, expect, it } from 'vitest';
import { classify, exhaustedResetMs, hintedWaitMs, retryAfterMs } from './classify.ts';
import { observeError, observeValue } from './outcome.ts';

const json = (status: number, error: object | null, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(error ? { error } : {}), { status, headers });

describe('classify', () => {
  it('reads OpenAI limit 429s as limits, with the wait from headers or the message', () => {
    const limit = json(429, { code: 'rate_limit_exceeded', type: 'requests' }, { 'retry-after-ms': '1500' });
    const o = { ...observeValue(limit), code: 'rate_limit_exceeded' };
    expect(classify(o, 0)).toEqual({ kind: 'limit', retryAfterMs: 1500 });
    const fromMessage = { ...observeValue(json(429, null)), code: 'rate_limit_exceeded', message: 'Rate limit reached ... Please try again in 1m12.5s. Visit' };
    expect(classify(fromMessage, 0)).toEqual({ kind: 'limit', retryAfterMs: 72_500 });
    const fromReset = observeValue(json(429, null, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s' }));
    expect(classify(fromReset, 0)).toEqual({ kind: 'limit', retryAfterMs: 360_000 });
  });

  it('reads a 429 without a limit code, and 503, as contention', () => {
    expect(classify(observeValue(json(429, null)), 0).kind).toBe('contention');
    expect(classify(observeValue(json(503, null, { 'retry-after': '2' })), 0)).toEqual({ kind: 'contention', retryAfterMs: 2000 });
  });

  it.each([
    [{ status: 429, code: 'insufficient_quota' }, 'fatal'],
    [{ status: 429, code: 'rate_limit_exceeded', message: 'Request too large for gpt-image-1' }, 'fatal'],
    [{ status: 400 }, 'fatal'],
    [{ status: 401 }, 'fatal'],
    [{ status: 403 }, 'fatal'],
    [{ status: 500 }, 'server'],
    [{ status: 502 }, 'server'],
    [{ status: 408 }, 'server'],
  ])('%j is %s', (err, kind) => {
    expect(classify(observeError(err), 0).kind).toBe(kind);
  });

  it('reads network failures as server errors and aborts as cancelled', () => {
    expect(classify(observeError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), 0).kind).toBe('server');
    expect(classify(observeError(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })), 0).kind).toBe('server');
    expect(classify(observeError({ name: 'APIConnectionTimeoutError' }), 0).kind).toBe('server');
    expect(classify(observeError(new DOMException('aborted', 'AbortError')), 0).kind).toBe('cancelled');
  });

  it('reads SDK errors: status, headers, code and type', () => {
    const sdkError = { status: 429, headers: new Headers({ 'retry-after-ms': '250' }), code: 'rate_limit_exceeded', type: 'tokens', message: '429 Rate limit reached' };
    expect(classify(observeError(sdkError), 0)).toEqual({ kind: 'limit', retryAfterMs: 250 });
  });

  it('reads usage from SDK results and withResponse pairs', () => {
    expect(observeValue({ usage: { input_tokens: 10, output_tokens: 272 } })).toMatchObject({ status: 200, outputTokens: 272, inputTokens: 10 });
    expect(observeValue({ data: { usage: { output_tokens: 5 } }, response: new Response('', { status: 200 }) })).toMatchObject({ outputTokens: 5 });
  });
});

describe('wait hints', () => {
  it('honours retry-after at any length, as seconds or a date', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(retryAfterMs(h({ 'retry-after': '120' }), 0)).toBe(120_000);
    expect(retryAfterMs(h({ 'retry-after': new Date(90_000).toUTCString() }), 0)).toBe(90_000);
    expect(retryAfterMs(h({ 'retry-after': 'soon' }), 0)).toBeUndefined();
    expect(exhaustedResetMs(h({ 'x-ratelimit-remaining-tokens': '5', 'x-ratelimit-reset-tokens': '1s' }))).toBeUndefined();
    expect(hintedWaitMs('Please try again in 20ms.')).toBe(20);
  });
});
