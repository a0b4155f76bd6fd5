import { describe, expect, it } from 'vitest';
import { classify } from './classify.ts';
import { isPlainSuccess, needsErrorBody, observeValue, ReadAnswer, withErrorBody } from './outcome.ts';

const limit429 = { message: 'Rate limit reached for gpt-image-1.5 on images per min (IPM): Limit 5, Used 5, Requested 1.', type: 'requests', code: 'rate_limit_exceeded' };
const headers = { 'retry-after-ms': '1500', 'x-ratelimit-remaining-requests': '0' };

describe('ReadAnswer: an answer the task has read itself', () => {
  it('is read as the same Response would be, without a body to clone', async () => {
    const read = observeValue(new ReadAnswer(429, headers, limit429));
    const response = new Response(JSON.stringify({ error: limit429 }), { status: 429, headers });
    const fromResponse = await withErrorBody(observeValue(response), response);
    expect(needsErrorBody(read, new ReadAnswer(429, headers, limit429))).toBe(false);
    expect(needsErrorBody(fromResponse, response)).toBe(true);
    for (const o of [read, fromResponse]) {
      expect(o).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', message: limit429.message, networkError: false });
      expect(o.headers!.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(o.headers!.get('Retry-After-Ms')).toBe('1500');
    }
    expect(classify(read, 0)).toEqual(classify(fromResponse, 0));
    expect(classify(read, 0)).toMatchObject({ kind: 'limit', retryAfterMs: 1500 });
  });

  it('carries usage to reconcile tokens, and a success with usage is not a plain success', () => {
    const ok = new ReadAnswer(200, {}, undefined, { input_tokens: 30, output_tokens: 272 }, 'body the limiter never reads');
    expect(isPlainSuccess(ok)).toBe(false);
    expect(observeValue(ok)).toMatchObject({ status: 200, outputTokens: 272, inputTokens: 30, code: undefined });
    expect(classify(observeValue(ok), 0).kind).toBe('ok');
    expect(classify(observeValue(new ReadAnswer(503, {}, { type: 'server_error', code: null })), 0).kind).toBe('contention');
  });
});
