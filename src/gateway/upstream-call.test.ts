import { describe, expect, it } from 'vitest';
import { redactKeys, toAnswer } from './upstream-call.ts';

describe('upstream answers', () => {
  it('redacts key-like strings (masked or not) from provider error bodies', async () => {
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided: sk-proj-****************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const answer = await toAnswer(new Response(body, { status: 401, headers: { 'content-type': 'application/json', 'x-request-id': 'req_1', authorization: 'Bearer sk-x' } }));
    const text = answer.body.toString();
    expect(text).not.toMatch(/abcd|\*\*\*\*/);
    expect(JSON.parse(text).error.message).toBe('Incorrect API key provided: sk-[redacted]. You can find your API key at https://platform.openai.com/account/api-keys.');
    expect(answer.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_1' });
  });

  it('leaves bodies without keys, and successes, byte for byte', async () => {
    const plain = Buffer.from('{"error":{"message":"Rate limit reached"}}');
    expect(redactKeys(plain)).toBe(plain);
    const ok = await toAnswer(new Response('{"data":[{"b64_json":"sk-lookalike"}]}', { status: 200 }));
    expect(ok.body.toString()).toContain('sk-lookalike');
  });
});
