import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { startGateway, type GatewayOptions, type RunningGateway } from '../src/gateway/gateway.ts';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.ts';

/**
 * The gateway passes today's images API through under its limiter: multipart edits byte
 * for byte, streams relayed as they arrive, unknown fields forwarded (or refused under
 * `validation: strict`), models as configured — and refuses bad input itself, without
 * calling the provider.
 */
const PLAN = { partialsAt: [0, 400], completedAt: 900, usage: { input_tokens: 10, output_tokens: 90 } };
let png: Buffer<ArrayBuffer>;
let small: Buffer<ArrayBuffer>;
let upstream: RecordingUpstream;
const gateways: RunningGateway[] = [];

async function gatewayWith(config: GatewayOptions['config'] = {}, limiter: GatewayOptions['limiter'] = {}): Promise<RunningGateway> {
  const g = await startGateway({ upstream: upstream.baseURL, upstreamKey: 'sk-upstream-secret', config, limiter });
  gateways.push(g);
  return g;
}

beforeAll(async () => {
  png = await sharp({ create: { width: 256, height: 256, channels: 4, background: '#336699' } }).png().toBuffer();
  small = await sharp({ create: { width: 64, height: 64, channels: 4, background: '#336699' } }).png().toBuffer();
  upstream = await startRecordingUpstream(PLAN);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(500)));
  await upstream.close();
});

type Part = [string, string | Buffer<ArrayBuffer>];
async function form(parts: Part[]): Promise<{ contentType: string; body: Buffer<ArrayBuffer> }> {
  const data = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') data.append(name, value);
    else data.append(name, new Blob([new Uint8Array(value)], { type: 'image/png' }), `${name}.png`);
  }
  const response = new Response(data);
  return { contentType: response.headers.get('content-type')!, body: Buffer.from(await response.arrayBuffer()) };
}

const post = (g: RunningGateway, path: string, body: Uint8Array<ArrayBuffer> | string, contentType: string, signal?: AbortSignal) =>
  fetch(`${g.url}/v1/images/${path}`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': contentType }, body, signal });

describe('edits through the gateway', () => {
  it('forwards a multipart edit byte for byte (unknown fields included), streamed from its spool with a content-length', async () => {
    const g = await gatewayWith();
    const { contentType, body } = await form([
      ['model', 'gpt-image-1.5'],
      ['prompt', 'add a hat'],
      ['a_field_from_next_month', 'yes'],
      ['image[]', png],
      ['image[]', png],
      ['mask', png],
    ]);
    const before = upstream.requests.length;
    const answer = await post(g, 'edits', body, contentType);
    expect(answer.status).toBe(200);
    const got = upstream.requests[before]!;
    expect(got).toMatchObject({ path: '/v1/images/edits', contentType, contentLength: String(body.length), bytes: body.length });
    expect(got.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(answer.headers.get('x-ratelab-upstream')).toBe('default');
  });

  it('passes the JSON form through too', async () => {
    const g = await gatewayWith();
    const before = upstream.requests.length;
    const body = JSON.stringify({ model: 'gpt-image-2', prompt: 'x', images: [{ file_id: 'file-1' }, { image_url: 'https://example.com/a.png' }] });
    expect((await post(g, 'edits', body, 'application/json')).status).toBe(200);
    expect(upstream.requests[before]!.json).toEqual(JSON.parse(body));
  });
});

describe('streaming through the gateway', () => {
  it('relays each event as it arrives, so the client has its first partial long before the provider finishes', async () => {
    const g = await gatewayWith();
    const client = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0 });
    const start = Date.now();
    const { data: stream, response } = await client.images.generate({ model: 'gpt-image-2', prompt: 'x', stream: true, partial_images: 2 }).withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-ratelab-attempts')).toBe('1');
    expect(response.headers.get('x-ratelab-upstream')).toBe('default');
    const at: [string, number][] = [];
    for await (const event of stream) at.push([event.type, Date.now() - start]);
    expect(at.map(([type]) => type)).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    // The provider sends its partials at 0 and 400 ms and finishes at 900 ms.
    expect(at[0]![1]).toBeLessThan(at[2]![1] - 500);
  });

  it("reconciles the token reservation with the completed event's usage", async () => {
    // A day's window (≈ 11 tokens refill in the stream's 0.9 s) and no headroom: the budget shows what was charged.
    const g = await gatewayWith({}, { budgets: { tpm: { limit: 1_000_000 }, window: '24h', safety: 1 } });
    const body = JSON.stringify({ model: 'gpt-image-2', prompt: 'x', quality: 'high', stream: true });
    const answer = await post(g, 'generations', body, 'application/json');
    await answer.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const remaining = g.limiter.state().store.remaining.tpm!;
    // Reserved 7 024 (high 1024² on gpt-image-2) + 1 prompt token; the provider said it used 100.
    expect(1_000_000 - remaining).toBeGreaterThan(80);
    expect(1_000_000 - remaining).toBeLessThanOrEqual(100);
  });

  it("a client that leaves mid-stream aborts the provider call and frees the limiter's slot", async () => {
    const g = await gatewayWith({}, { concurrency: { mode: 'fixed', limit: 1 } });
    const gone = new AbortController();
    const answer = await post(g, 'generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', stream: true, partial_images: 2 }), 'application/json', gone.signal);
    const reader = answer.body!.getReader();
    await reader.read();
    expect(g.limiter.inFlight).toBe(1);
    expect(upstream.openStreams()).toBe(1);
    gone.abort();
    const deadline = Date.now() + 300;
    while ((g.limiter.inFlight > 0 || upstream.openStreams() > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    // Well before the provider's 900 ms: the slot and the upstream stream were released on leaving.
    expect(g.limiter.inFlight).toBe(0);
    expect(upstream.openStreams()).toBe(0);
    const next = await post(g, 'generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'next' }), 'application/json');
    expect(next.status).toBe(200);
  });
});

describe('validation policy and models', () => {
  it('forwards fields it does not know by default, and refuses them under validation: strict', async () => {
    const forward = await gatewayWith();
    const strict = await gatewayWith({ validation: 'strict' });
    const body = JSON.stringify({ model: 'gpt-image-2', prompt: 'x', a_field_from_next_month: { on: true }, output_format: 'avif' });
    const before = upstream.requests.length;
    expect((await post(forward, 'generations', body, 'application/json')).status).toBe(200);
    expect(upstream.requests[before]!.json).toMatchObject({ a_field_from_next_month: { on: true }, output_format: 'avif' });
    const refused = await post(strict, 'generations', body, 'application/json');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe('a_field_from_next_month');
    expect(upstream.requests.length).toBe(before + 1);
  });

  it('serves the models it is configured with, lists them, and takes new ones as data', async () => {
    const g = await gatewayWith({ models: { serve: ['gpt-image-2', 'house-model'], catalogue: { 'house-model': { like: 'gpt-image-2', qualities: ['low'] } } } });
    const client = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['gpt-image-2', 'house-model']);
    expect((await client.images.generate({ model: 'house-model', prompt: 'x', quality: 'low' })).data).toHaveLength(1);
    const narrowed = await client.images.generate({ model: 'gpt-image-1.5', prompt: 'x' }).catch((e: unknown) => e);
    expect(narrowed).toMatchObject({ status: 400, param: 'model' });
    const defaults = await gatewayWith();
    const all = await new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: defaults.baseURL }).models.list();
    expect(all.data.map((m) => m.id)).toContain('gpt-image-2.6-flare');
    expect(all.data.map((m) => m.id)).not.toContain('gpt-image-1');
    const retired = await fetch(`${defaults.url}/v1/models/gpt-image-1`, { headers: { authorization: `Bearer ${DEV_CLIENT_KEY}` } });
    expect(retired.status).toBe(404);
  });
});

describe('bad input is refused at the gateway, in OpenAI shape, with no provider call', () => {
  const cases: [string, () => Promise<[string, Uint8Array<ArrayBuffer> | string, string]>, string | null, string | null][] = [
    ['a multipart body without a boundary', async () => ['edits', '--x\r\n', 'multipart/form-data'], null, 'invalid_multipart'],
    ['a truncated part', async () => {
      const f = await form([['prompt', 'x'], ['image', png]]);
      return ['edits', f.body.subarray(0, f.body.length - 30), f.contentType];
    }, null, 'invalid_multipart'],
    ['a file that is not an image', async () => {
      const f = await form([['prompt', 'x'], ['image', Buffer.from('plain text pretending')]]);
      return ['edits', f.body, f.contentType];
    }, 'image', 'invalid_image_format'],
    ['17 images', async () => {
      const f = await form([['prompt', 'x'], ...Array.from({ length: 17 }, (): Part => ['image[]', png])]);
      return ['edits', f.body, f.contentType];
    }, 'image', 'array_above_max_length'],
    ['a mask of another size', async () => {
      const f = await form([['prompt', 'x'], ['image', png], ['mask', small]]);
      return ['edits', f.body, f.contentType];
    }, 'mask', 'invalid_mask_dimensions'],
    ['1000x1000 on gpt-image-2', async () => ['generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', size: '1000x1000' }), 'application/json'], 'size', 'invalid_value'],
    ['4000x1000 on gpt-image-2', async () => ['generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', size: '4000x1000' }), 'application/json'], 'size', 'invalid_value'],
    ['xhigh on gpt-image-2', async () => ['generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', quality: 'xhigh' }), 'application/json'], 'quality', 'invalid_value'],
    ['stream with svg', async () => ['generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', output_format: 'svg', stream: true }), 'application/json'], 'stream', 'unsupported_parameter'],
    ['a shut-down model', async () => ['generations', JSON.stringify({ model: 'gpt-image-1', prompt: 'x' }), 'application/json'], 'model', 'model_not_found'],
  ];

  it.each(cases)('%s', async (_name, make, param, code) => {
    const g = gateways[0] ?? (await gatewayWith());
    const [path, body, contentType] = await make();
    const before = upstream.requests.length;
    const answer = await post(g, path, body, contentType);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    const { error } = (await answer.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(typeof error.message).toBe('string');
    expect(upstream.requests.length).toBe(before);
  });
});

describe('the gateway in front of the mock', () => {
  let mock: RunningMockServer;
  let g: RunningGateway;
  beforeAll(async () => {
    mock = await startMockServer({ profile: loadProfile('openai', { latency: { p50: '20s', p95: '20s', p99: '20s', min: 0 }, pool: { background: { kind: 'none' } } }), timeScale: 0.02 });
    g = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-front', timeScale: 0.02 });
  });
  afterAll(async () => {
    await g.close(500);
    await mock.close();
  });

  it('edits with toFile through both, and the mock frees its GPU slot when a streaming client leaves', async () => {
    const client = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0 });
    const edited = await client.images.edit({ model: 'gpt-image-2.5-flare', prompt: 'x', quality: 'low', image: [await toFile(png, 'a.png', { type: 'image/png' })], markup: await toFile(png, 'm.png', { type: 'image/png' }) });
    expect(edited.usage!.input_tokens_details.image_tokens).toBe(65 + 129);
    const gone = new AbortController();
    const answer = await post(g, 'generations', JSON.stringify({ model: 'gpt-image-2', prompt: 'x', stream: true, partial_images: 3, quality: 'high' }), 'application/json', gone.signal);
    await answer.body!.getReader().read();
    expect(mock.model.pool.state().busy).toBe(1);
    gone.abort();
    const deadline = Date.now() + 500;
    while (mock.model.pool.state().busy > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.model.pool.state().busy).toBe(0);
  });
});
