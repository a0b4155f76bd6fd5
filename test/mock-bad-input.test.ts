import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';

let mock: RunningMockServer;
beforeAll(async () => {
  mock = await startMockServer({ profile: loadProfile('openai', { latency: { p50: '1ms', p95: '1ms', p99: '1ms', min: 0 }, maxBodyBytes: 1_048_576 }) });
});
afterAll(() => mock.close());

const post = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}, path = '/v1/images/generations') =>
  fetch(`${mock.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-tier5-bad', 'content-type': 'application/json', ...headers },
    body,
  });

async function expectOpenAIError(response: Response, status: number, param: string | null, code: string | null): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.param).toBe(param);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

/** Writes raw bytes and resolves with whatever the server sends before closing. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(mock.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    socket.write(bytes, () => socket.end());
    setTimeout(() => socket.destroy(), 2000);
  });
}

describe('bad input over HTTP', () => {
  it.each([
    ['bad JSON', '{"prompt":', 'application/json', null, null],
    ['missing prompt', '{}', 'application/json', 'prompt', 'missing_required_parameter'],
    ['prompt over 32 000 chars', JSON.stringify({ prompt: 'p'.repeat(32_001) }), 'application/json', 'prompt', 'string_above_max_length'],
    ['n = 0', JSON.stringify({ prompt: 'x', n: 0 }), 'application/json', 'n', 'integer_below_min_value'],
    ['n = 11', JSON.stringify({ prompt: 'x', n: 11 }), 'application/json', 'n', 'integer_above_max_value'],
    ['unknown size', JSON.stringify({ prompt: 'x', size: '256x256' }), 'application/json', 'size', 'invalid_value'],
    ['unknown quality', JSON.stringify({ prompt: 'x', quality: 'ultra' }), 'application/json', 'quality', 'invalid_value'],
    ['unknown background', JSON.stringify({ prompt: 'x', background: 'green' }), 'application/json', 'background', 'invalid_value'],
    ['unknown output_format', JSON.stringify({ prompt: 'x', output_format: 'bmp' }), 'application/json', 'output_format', 'invalid_value'],
    ['transparent with jpeg', JSON.stringify({ prompt: 'x', background: 'transparent', output_format: 'jpeg' }), 'application/json', 'background', 'invalid_value'],
    ['compression without jpeg/webp', JSON.stringify({ prompt: 'x', output_compression: 10 }), 'application/json', 'output_compression', 'invalid_value'],
    ['wrong content type', JSON.stringify({ prompt: 'x' }), 'text/plain', null, null],
  ])('%s → 400 in OpenAI’s shape', async (_name, body, contentType, param, code) => {
    await expectOpenAIError(await post(body, { 'content-type': contentType }), 400, param, code);
  });

  it('oversized body → 413', async () => {
    await expectOpenAIError(await post(new Uint8Array(1_200_000).fill(0x20)), 413, null, 'payload_too_large');
  });

  it('unknown route → 404, wrong method → 405 with allow', async () => {
    await expectOpenAIError(await post('{}', {}, '/v1/chat/completions'), 404, null, null);
    await expectOpenAIError(await post('{}', {}, '/v1/images/variations'), 404, null, null);
    const wrongMethod = await fetch(`${mock.url}/v1/images/generations`, { headers: { authorization: 'Bearer sk-tier1-x' } });
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expectOpenAIError(wrongMethod, 405, null, null);
  });

  it('survives protocol garbage, truncated bodies and huge headers, and keeps counting', async () => {
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    await raw('POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"prompt":');
    expect(await raw(`GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    const bursts = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i % 2 ? '{"prompt": 1}' : '[]').then((r) => r.status)));
    expect(new Set(bursts)).toEqual(new Set([400]));
    expect((await fetch(`${mock.url}/healthz`)).status).toBe(200);
    const ok = await post(JSON.stringify({ prompt: 'still alive', quality: 'low' }));
    expect(ok.status).toBe(200);
    const stats = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { byReason: Record<string, number> };
    expect(stats.byReason.invalid_request).toBeGreaterThanOrEqual(200);
  });
});
