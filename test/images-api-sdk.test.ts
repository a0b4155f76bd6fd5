import OpenAI, { BadRequestError, NotFoundError, toFile } from 'openai';
import { setupServer } from 'msw/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { mockOpenAI } from '../mock-server/msw.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import { CATALOGUE } from '../src/openai/catalogue.ts';

/**
 * Today's images API with the official openai SDK (newest major), unchanged, pointed at
 * the mock in-process (msw), at the HTTP mock, and at the gateway in front of it: every
 * active catalogue model generates and edits (several images and a mask), streams with the
 * SDK's async iterator, and every refusal is the SDK's typed error.
 */
const SCALE = 0.001;
const ACTIVE = CATALOGUE.active();
// Fast and calm: these tests are about the wire, not about latency or contention.
const profile = loadProfile('openai', { latency: { p50: '2s', p95: '3s', p99: '4s', min: 0 }, pool: { background: { kind: 'none' } }, access: { gif: true, svg: true } });

let png: Buffer;
let mask: Buffer;
let http: RunningMockServer;
let gateway: RunningGateway;
const msw = mockOpenAI(profile, { timeScale: SCALE, seed: 3 });
const server = setupServer(...msw);

beforeAll(async () => {
  png = await sharp({ create: { width: 512, height: 512, channels: 4, background: '#336699' } }).png().toBuffer();
  mask = await sharp({ create: { width: 512, height: 512, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
  await msw.model.ready();
  http = await startMockServer({ profile, timeScale: SCALE, seed: 3 });
  gateway = await startGateway({ upstream: http.baseURL, upstreamKey: 'sk-tier5-gateway', timeScale: SCALE, limiter: { concurrency: { mode: 'fixed', limit: 32 } } });
  // Only the SDK's default host is intercepted; the HTTP mock and the gateway stay real.
  server.listen({ onUnhandledRequest: 'bypass' });
});
afterAll(async () => {
  server.close();
  await gateway?.close(1000);
  await http?.close();
});

const targets = {
  msw: () => new OpenAI({ apiKey: 'sk-tier5-msw', maxRetries: 0 }),
  http: () => new OpenAI({ apiKey: 'sk-tier5-http', baseURL: http.baseURL, maxRetries: 0 }),
  gateway: () => new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: gateway.baseURL, maxRetries: 0 }),
};

const files = async (n: number) => Promise.all(Array.from({ length: n }, (_, i) => toFile(png, `ref-${i}.png`, { type: 'image/png' })));

describe.each(Object.entries(targets))('the openai SDK against %s', (_name, sdk) => {
  it.each(ACTIVE)('%s generates and edits (3 images and a mask), with usage', async (model) => {
    const client = sdk();
    const facts = CATALOGUE.get(model)!;
    const size = facts.sizes.freeForm ? '1536x864' : '1536x1024';
    const quality = facts.qualities.includes('max') ? 'max' : 'high';
    const generated = await client.images.generate({ model, prompt: 'a lighthouse', size, quality, output_format: 'webp', safety_identifier: 'user-hash-1' });
    expect(generated).toMatchObject({ size, quality, output_format: 'webp', safety_identifier: 'user-hash-1' });
    const decoded = await sharp(Buffer.from(generated.data![0]!.b64_json!, 'base64')).metadata();
    expect(`${decoded.width}x${decoded.height}`).toBe(size);
    expect(generated.usage!.output_tokens).toBeGreaterThan(0);

    const edited = await client.images.edit({ model, prompt: 'make it dusk', image: await files(3), mask: await toFile(mask, 'mask.png', { type: 'image/png' }), quality: 'low' });
    expect(edited.data).toHaveLength(1);
    // Three 512² inputs: vision-style tiles, 65 + 129 each (estimated), in usage and TPM.
    expect(edited.usage!.input_tokens_details.image_tokens).toBe(3 * (65 + 129));
  });

  it('streams partial images, then the completed event with usage, through the async iterator', async () => {
    const stream = await sdk().images.generate({ model: 'gpt-image-2.5-flare', prompt: 'stream', stream: true, partial_images: 2, quality: 'xhigh' });
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'image_generation.completed') expect(event.usage.output_tokens).toBe(10_536);
      else expect(event.partial_image_index).toBe(types.length - 1);
    }
    expect(types).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    const edits = await sdk().images.edit({ model: 'gpt-image-2', prompt: 'stream edit', image: await files(2), stream: true, partial_images: 1 });
    const editTypes: string[] = [];
    for await (const event of edits) editTypes.push(event.type);
    expect(editTypes).toEqual(['image_edit.partial_image', 'image_edit.completed']);
  });

  it('raises the typed error for every refusal', async () => {
    const client = sdk();
    const refusal = (run: () => Promise<unknown>) => run().then(() => undefined, (e: unknown) => e);
    const retired = await refusal(() => client.images.generate({ model: 'gpt-image-1', prompt: 'x' }));
    expect(retired).toBeInstanceOf(NotFoundError);
    expect((retired as NotFoundError).code).toBe('model_not_found');
    for (const [params, param] of [
      [{ model: 'gpt-image-2', prompt: 'x', size: '1000x1000' }, 'size'],
      [{ model: 'gpt-image-2', prompt: 'x', size: '4000x1000' }, 'size'],
      [{ model: 'gpt-image-2', prompt: 'x', quality: 'xhigh' }, 'quality'],
      [{ model: 'gpt-image-2', prompt: 'x', n: 11 }, 'n'],
    ] as const) {
      const error = await refusal(() => client.images.generate(params));
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).param).toBe(param);
    }
    const svgStream = await refusal(() => client.images.generate({ model: 'gpt-image-2', prompt: 'x', output_format: 'svg', stream: true }));
    expect(svgStream).toBeInstanceOf(BadRequestError);
    expect((svgStream as BadRequestError).param).toBe('stream');
    const tooMany = await refusal(async () => client.images.edit({ model: 'gpt-image-2', prompt: 'x', image: await files(17) }));
    expect(tooMany).toBeInstanceOf(BadRequestError);
    expect((tooMany as BadRequestError).code).toBe('array_above_max_length');
  });
});
