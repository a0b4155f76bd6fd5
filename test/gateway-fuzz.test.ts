import { request } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { createRng, type Rng } from '../src/core/rng.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const TOTAL = 10_000;
const CONCURRENCY = 32;
let mock: RunningMockServer;
let port: number;
const gateways: Record<'strict' | 'forward', RunningGateway> = {} as Record<'strict' | 'forward', RunningGateway>;

beforeAll(async () => {
  mock = await startMockServer({ timeScale: 0.01, profile: 'zero' });
  for (const validation of ['strict', 'forward'] as const) {
    gateways[validation] = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-fuzz-secret', timeScale: 0.01, maxBodyBytes: 64 * 1024, config: { validation } });
  }
});
afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.close()));
  await mock.close();
});

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

/** A hand-built multipart body (so boundaries, headers and endings can be broken at will). */
function multipart(boundary: string, parts: { name: string; filename?: string; body: Buffer }[], end = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.filename ? 'content-type: image/png\r\n' : ''}\r\n`), p.body, Buffer.from('\r\n'));
  }
  if (end) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** The first bytes of a PNG that claims 64x64 (a real header; the rest does not matter to a sniffer). */
const PNG_64 = Buffer.from('89504e470d0a1a0a0000000d49484452000000400000004008060000', 'hex');

/** A malformed edit: multipart broken in one of many ways, or a JSON edit with bad references. */
function malformedEdit(rng: Rng): Case {
  const boundary = `b${rng.int(1e9)}`;
  const headers = { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` };
  const prompt = { name: 'prompt', body: Buffer.from('a fox') };
  const image = (name = 'image[]', body = PNG_64) => ({ name, filename: 'a.png', body });
  const base = { method: 'POST', path: '/v1/images/edits', headers };
  switch (rng.int(7)) {
    case 0: // random bytes under a multipart content type
      return { ...base, body: Buffer.from(Array.from({ length: 1 + rng.int(400) }, () => rng.int(256))) };
    case 1: // a valid form cut short
      return { ...base, body: multipart(boundary, [prompt, image()]).subarray(0, 20 + rng.int(60)) };
    case 2: // no closing boundary
      return { ...base, body: multipart(boundary, [prompt, image()], false) };
    case 3: // a file that is not an image, or no image at all
      return { ...base, body: multipart(boundary, rng.int(2) ? [prompt, image('image', Buffer.from('not an image at all'))] : [prompt]) };
    case 4: // too many images
      return { ...base, body: multipart(boundary, [prompt, ...Array.from({ length: 17 + rng.int(5) }, () => image())]) };
    case 5: // no boundary in the content type
      return { ...base, headers: { ...auth, 'content-type': 'multipart/form-data' }, body: multipart(boundary, [prompt, image()]) };
    default: // a JSON edit with bad image references
      return {
        ...base,
        headers: { ...auth, ...json },
        body: Buffer.from(JSON.stringify({ prompt: 'x', images: pick(rng, [[], 'x', [{}], [{ image_url: 'a', file_id: 'b' }], [{ image_url: 'data:image/png;base64,AAAA' }], [{ image_url: 7 }]]) })),
      };
  }
}
const auth = { authorization: `Bearer ${DEV_CLIENT_KEY}` };
const json = { 'content-type': 'application/json' };
// Wrong for every field below (null is not: OpenAI reads it as "default"; nor is any string for `prompt` or `user`).
const WRONG_VALUES = [true, -1, 0, 1.5, 'x', '', [], {}, [1, 2], { a: 1 }, 'A'.repeat(5000)];
const FIELDS = ['model', 'n', 'size', 'quality', 'background', 'output_format', 'output_compression', 'moderation'];
const WRONG_PROMPTS = [true, 0, [], {}, ['a fox'], ''];

/** One malformed request: never something the provider should see. */
function malformed(rng: Rng): Case {
  if (rng.int(5) === 0) return malformedEdit(rng);
  const valid = { model: 'gpt-image-1.5', prompt: 'a fox', quality: 'low' };
  const base: Case = { method: 'POST', path: '/v1/images/generations', headers: { ...auth, ...json }, body: Buffer.from(JSON.stringify(valid)) };
  switch (rng.int(9)) {
    case 0: // bad JSON: random bytes
      return { ...base, body: Buffer.from(Array.from({ length: 1 + rng.int(200) }, () => rng.int(256))) };
    case 1: {
      // truncated JSON (cut before its end)
      const text = JSON.stringify({ ...valid, prompt: 'p'.repeat(rng.int(100)) });
      return { ...base, body: Buffer.from(text.slice(0, rng.int(text.length - 1))) };
    }
    case 2: // a wrong type or value for one field
      return rng.int(5) === 0
        ? { ...base, body: Buffer.from(JSON.stringify({ ...valid, prompt: pick(rng, WRONG_PROMPTS) })) }
        : { ...base, body: Buffer.from(JSON.stringify({ ...valid, [pick(rng, FIELDS)]: pick(rng, WRONG_VALUES) })) };
    case 3: // huge fields: prompt beyond the model's limit, or a body beyond the gateway's
      return rng.int(2) === 0
        ? { ...base, body: Buffer.from(JSON.stringify({ ...valid, prompt: 'x'.repeat(32_001 + rng.int(10_000)) })) }
        : { ...base, body: Buffer.alloc(64 * 1024 + 1 + rng.int(100_000), 0x61) };
    case 4: // not an object at all
      return { ...base, body: Buffer.from(JSON.stringify(pick(rng, [[], 'prompt', 42, null, [valid]]))) };
    case 5: // bad or missing content type
      return { ...base, headers: { ...auth, 'content-type': pick(rng, ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx']) } };
    case 6: // bad authorization
      return { ...base, headers: { ...json, authorization: pick(rng, ['', 'Bearer', 'Bearer ', 'Basic abc', `bearer ${DEV_CLIENT_KEY}`, 'Bearer sk-' + 'z'.repeat(rng.int(300)), 'Token x']) } };
    case 7: // wrong method or path
      return { ...base, method: pick(rng, ['GET', 'PUT', 'PATCH', 'DELETE']), path: pick(rng, ['/v1/images/generations', '/v1/images', '/v1/jobs/nope', '/v1/jobs/images', '/../etc/passwd', '/v1/%zz', '/v2/x']) };
    default: // unknown fields and a missing prompt
      return { ...base, body: Buffer.from(JSON.stringify(rng.int(2) === 0 ? { model: 'gpt-image-1.5' } : { ...valid, ['x' + rng.int(1e6)]: 1 })) };
  }
}

function send(c: Case): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: c.method, path: c.path, headers: { ...c.headers, 'content-length': String(c.body.length) }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(c.method === 'GET' || c.method === 'DELETE' ? undefined : c.body);
  });
}

/** A body shorter than its content-length, then the socket closes: the gateway must not hang or crash. */
function truncated(body: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /v1/images/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${DEV_CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 100}\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 5);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

/**
 * `strict`: the gateway judges every field, so no malformed request reaches the provider.
 * `forward` (the default): it judges what it prices (model, n, size, quality, stream, the
 * edit's files) and forwards the rest, so a wrong value in another field is the provider's
 * 400 — still one clear OpenAI-shaped answer per request.
 */
describe.each(['strict', 'forward'] as const)('gateway fuzzing (validation: %s)', (validation) => {
  it(`answers ${TOTAL} malformed requests with 4xx in OpenAI's shape, and keeps its memory`, { timeout: 120_000 }, async () => {
    port = Number(new URL(gateways[validation].url).port);
    const before = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { total: number; byStatus: Record<string, number> };
    const rng = createRng(20261128);
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let heapAfterWarmup = 0;
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        if (i === 2_000) {
          gc();
          heapAfterWarmup = process.memoryUsage().heapUsed;
        }
        if (i % 50 === 0) {
          await truncated(JSON.stringify({ prompt: 'cut', quality: 'low' }).slice(0, rng.int(30)));
          continue;
        }
        const c = malformed(rng);
        const { status, body } = await send(c);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        let error: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } | undefined;
        try {
          error = (JSON.parse(body) as { error?: typeof error }).error;
        } catch {
          // reported below
        }
        const shaped = error && typeof error.message === 'string' && typeof error.type === 'string' && 'param' in error && 'code' in error;
        if (status < 400 || status >= 500 || !shaped) problems.push(`${c.method} ${c.path} ${c.body.subarray(0, 60).toString('latin1')} → ${status} ${body.slice(0, 120)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    gc();
    const growthMb = (process.memoryUsage().heapUsed - heapAfterWarmup) / 1e6;
    console.log(`fuzz (${validation}): ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')}; heap growth after warm-up ${growthMb.toFixed(1)} MB`);
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL - TOTAL / 50);
    // Every kind of refusal was exercised.
    for (const status of [400, 401, 404, 405, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    const stats = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { total: number; byStatus: Record<string, number> };
    if (validation === 'strict') expect(stats.total).toBe(before.total);
    else expect(Object.keys(stats.byStatus).filter((s) => (stats.byStatus[s] ?? 0) !== (before.byStatus[s] ?? 0))).toEqual(['400']);
    expect(growthMb).toBeLessThan(20);
    // Still serving after all that.
    const ok = await send({ method: 'POST', path: '/v1/images/generations', headers: { ...auth, ...json }, body: Buffer.from(JSON.stringify({ prompt: 'after the storm', quality: 'low' })) });
    expect(ok.status).toBe(200);
  });
});
