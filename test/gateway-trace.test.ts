import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputImagePng } from '../loadtests/mixes.ts';
import { startStack, type RunningStack } from '../src/cli/start-stack.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { CATALOGUE } from '../src/openai/catalogue.ts';
import { inputImageTokens } from '../src/openai/tokens.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { traceLineSchema, type TraceLine } from '../src/gateway/trace-line.ts';

/**
 * The gateway's trace as an app's traffic makes it, through the official SDK: one line per
 * images request — generations, a stream, a multipart edit, a bad request — with its class,
 * its answer, its timings, the provider's limit headers, valid against the published JSON
 * Schema, and nothing a user would not want written down: no prompt, no image, no key.
 */
const dir = mkdtempSync(join(tmpdir(), 'ratelab-trace-'));
const file = join(dir, 'trace.jsonl');
const PROMPT = 'a lighthouse at dusk, secret-prompt-words';
let stack: RunningStack;
let sdk: OpenAI;

const lines = (path = file): TraceLine[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TraceLine);

/** The gateway writes a line once the answer has ended; the file sees it a moment later. */
async function traced(count: number): Promise<TraceLine[]> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length >= count) return lines();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Expected ${count} trace lines in ${file}`);
}

beforeAll(async () => {
  stack = await startStack({ profile: 'openai', tier: 3, timeScale: 0.01, seed: 3, logLevel: 'warn', trace: file });
  sdk = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: stack.gateway.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.close();
});

describe('gateway --trace', () => {
  it('writes one line per images request with its class, answer and timings, and no prompt, image or key', { timeout: 60_000 }, async () => {
    await sdk.images.generate({ model: 'gpt-image-1.5', prompt: PROMPT, quality: 'low', size: '1024x1536', output_format: 'webp' });
    const stream = await sdk.images.generate({ model: 'gpt-image-1.5', prompt: PROMPT, quality: 'medium', stream: true, partial_images: 2 });
    for await (const _event of stream) void _event;
    // The dev client of priority high (a dev-mode gateway has one per priority): its line says so.
    await new OpenAI({ apiKey: `${DEV_CLIENT_KEY}-high`, baseURL: stack.gateway.baseURL, maxRetries: 0 }).images.edit({ model: 'gpt-image-1.5', prompt: PROMPT, image: [await toFile(Buffer.from(inputImagePng(300, 200)), 'ref.png', { type: 'image/png' })], quality: 'low' });
    await expect(sdk.images.generate({ model: 'gpt-image-9', prompt: PROMPT })).rejects.toMatchObject({ status: 400 });

    const [gen, streamed, edit, bad] = await traced(4);
    expect(gen).toMatchObject({ v: 1, client: 'dev', priority: 'normal', endpoint: 'generations', model: 'gpt-image-1.5', quality: 'low', size: '1024x1536', n: 1, format: 'webp', stream: false, inputImages: 0, status: 200, source: 'upstream', errorType: null, attempts: 1 });
    expect(gen!.usage!.outputTokens).toBeGreaterThan(0);
    expect(gen!.firstImageMs).toBe(gen!.latencyMs);
    expect(gen!.rateLimit).toMatchObject({ limitRequests: expect.any(Number), remainingRequests: expect.any(Number), resetRequests: expect.stringMatching(/\d(ms|s|m)/) });
    expect(Date.parse(gen!.at)).toBeGreaterThan(Date.now() - 60_000);

    expect(streamed).toMatchObject({ endpoint: 'generations', quality: 'medium', stream: true, partialImages: 2, status: 200 });
    // The first partial reached the client before the final image.
    expect(streamed!.firstImageMs!).toBeLessThan(streamed!.latencyMs);
    expect(streamed!.usage!.outputTokens).toBeGreaterThan(0);

    expect(edit).toMatchObject({ client: 'dev-high', priority: 'high', endpoint: 'edits', inputImages: 1, inputImageSizes: ['300x200'], mask: false, status: 200, timeScale: 0.01 });
    expect(edit!.requestBytes).toBeGreaterThan(inputImagePng(300, 200).length);
    expect(edit!.usage!.inputTokens).toBeGreaterThan(0);
    // The reference's share of the input tokens, as the answer's input_tokens_details split it (what calibrate fits per model).
    expect(edit!.usage!.inputImageTokens).toBe(inputImageTokens(CATALOGUE.factsFor('gpt-image-1.5').inputImageTokens, { width: 300, height: 200 }, undefined));
    expect(gen!.usage!.inputImageTokens).toBe(0);
    expect(streamed!.usage!.inputImageTokens).toBe(0);

    expect(bad).toMatchObject({ status: 400, source: 'gateway', model: null, errorType: 'invalid_request_error', firstImageMs: null, usage: null });
    expect(bad!.errorCode).not.toBeNull();

    // The same answers in the gateway's metrics: time to first image by endpoint and stream, tokens by direction, estimated spend.
    const metrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(value('ratelab_gateway_time_to_first_image_seconds_count{endpoint="generations",stream="true"}')).toBe(1);
    expect(value('ratelab_gateway_time_to_first_image_seconds_count{endpoint="generations",stream="false"}')).toBe(1);
    expect(value('ratelab_gateway_time_to_first_image_seconds_count{endpoint="edits",stream="false"}')).toBe(1);
    const outputTokens = [gen, streamed, edit].reduce((a, l) => a + l!.usage!.outputTokens, 0);
    expect(value('ratelab_gateway_tokens_total{model="gpt-image-1.5",direction="output"}')).toBe(outputTokens);
    expect(value('ratelab_gateway_spend_usd_total{model="gpt-image-1.5"}')).toBeGreaterThan(0);

    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('secret-prompt-words');
    expect(text).not.toContain(DEV_CLIENT_KEY);
    expect(text).not.toContain('sk-tier3-stack');
    expect(text).not.toContain('b64_json');
    expect(text).not.toMatch(/"[A-Za-z0-9+/]{200,}/);
  });

  it('writes lines the published JSON Schema (schemas/trace-line.schema.json) and the zod schema accept', { timeout: 30_000 }, async () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const published = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schemas', 'trace-line.schema.json'), 'utf8')) as object;
    const validate = ajv.compile(published);
    const all = await traced(4);
    for (const line of all) {
      expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
      expect(traceLineSchema.parse(line)).toEqual(line);
    }
    // And it refuses what is not a line: a prompt field, a missing status.
    expect(validate({ ...all[0], prompt: PROMPT })).toBe(false);
    const { status: _status, ...noStatus } = all[0]!;
    expect(validate(noStatus)).toBe(false);
  });
});

describe('a client that leaves', () => {
  it('before its answer is traced with status 0, not completed, and counts no image', { timeout: 30_000 }, async () => {
    const before = (await traced(4)).length;
    const ac = new AbortController();
    const pending = sdk.images.generate({ model: 'gpt-image-1.5', prompt: PROMPT, quality: 'high', size: '1536x1024' }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(pending).rejects.toThrow();
    const all = await traced(before + 1);
    expect(all.at(-1)).toMatchObject({ status: 0, completed: false, model: 'gpt-image-1.5', quality: 'high', firstImageMs: null, usage: null });
    const metrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^ratelab_gateway_time_to_first_image_seconds_count\{endpoint="generations",stream="false"\} 1$/m);
  });
});

describe('trace rotation', () => {
  it('rotates the file past maxBytes and keeps `keep` rotated files', { timeout: 60_000 }, async () => {
    const rotated = join(mkdtempSync(join(tmpdir(), 'ratelab-trace-rot-')), 't.jsonl');
    const g = await startGateway({ upstream: stack.mock.baseURL, upstreamKey: 'sk-tier3-rot', catalogue: stack.mock.model.catalogue, models: stack.mock.model.served, timeScale: 0.01, logLevel: 'warn', trace: { path: rotated, maxBytes: 1024, keep: 2 } });
    try {
      const client = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0 });
      for (let i = 0; i < 12; i++) await client.images.generate({ model: 'gpt-image-1.5', prompt: `p${i}`, quality: 'low' });
    } finally {
      await g.close(1000);
    }
    expect(existsSync(`${rotated}.1`)).toBe(true);
    expect(existsSync(`${rotated}.2`)).toBe(true);
    expect(existsSync(`${rotated}.3`)).toBe(false);
    const kept = [rotated, `${rotated}.1`, `${rotated}.2`].flatMap((f) => lines(f));
    // ~700 bytes a line, rotated past 1 KiB: two per file, the newest in the unrotated file.
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept.length).toBeLessThan(12);
  });
});
