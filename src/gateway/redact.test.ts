import { describe, expect, it } from 'vitest';
import { Redactor } from './redact.ts';
import { toAnswer } from './upstream-call.ts';

const AZURE = '3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
const SK = 'sk-proj-live-0123456789abcdef';

describe('Redactor', () => {
  const r = new Redactor([AZURE, SK, 'short', undefined]);

  it('removes configured secrets by exact value, and anything shaped like an OpenAI key', () => {
    const text = `key ${AZURE} and ${SK}, masked sk-proj-****abcd, and a word: short`;
    expect(r.text(text)).toBe('key [redacted] and [redacted], masked sk-[redacted], and a word: short');
  });

  it('passes bytes without a secret through as the same Buffer', () => {
    const image = Buffer.from(`{"data":[{"b64_json":"${'A'.repeat(100_000)}"}]}`);
    expect(r.buffer(image)).toBe(image);
  });

  it('redacts header values', () => {
    expect(r.headers({ 'x-request-id': `req_${AZURE}`, 'openai-organization': 'org-1' })).toEqual({ 'x-request-id': 'req_[redacted]', 'openai-organization': 'org-1' });
  });

  it('redacts a stream event by event, whatever the chunk boundaries', () => {
    const stream = `event: a\ndata: {"k":"${AZURE}"}\n\nevent: b\ndata: {"k":"${SK}"}\n\nevent: c\ndata: {"k":"x"}\n\n`;
    for (const size of [1, 3, 7, 16, 64, 1000]) {
      const events = r.events();
      let out = '';
      const sent: string[] = [];
      for (let i = 0; i < stream.length; i += size) {
        const ready = events.push(Buffer.from(stream.slice(i, i + size))).toString();
        out += ready;
        if (ready) sent.push(ready);
      }
      out += events.end().toString();
      expect(out).toBe(stream.replace(AZURE, '[redacted]').replace(SK, '[redacted]'));
      // Only whole events are ever sent.
      for (const piece of sent) expect(piece.endsWith('\n\n')).toBe(true);
    }
  });
});

describe('toAnswer', () => {
  it("redacts the provider's headers and body of every status, and keeps only the headers worth passing", async () => {
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided: sk-proj-****************************abcd.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const answer = await toAnswer(new Response(body, { status: 401, headers: { 'content-type': 'application/json', 'x-request-id': `req_${AZURE}`, authorization: 'Bearer sk-x' } }), new Redactor([AZURE]));
    expect(JSON.parse(answer.body.toString()).error.message).toBe('Incorrect API key provided: sk-[redacted].');
    expect(answer.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_[redacted]' });
    const ok = await toAnswer(new Response(`{"created":1,"echo":"${AZURE}"}`, { status: 200 }), new Redactor([AZURE]));
    expect(ok.body.toString()).toBe('{"created":1,"echo":"[redacted]"}');
  });
});
