import OpenAI, { PermissionDeniedError, RateLimitError, type APIError } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';

/**
 * The acceptance suite: the official `openai` SDK, unchanged, against the HTTP mock.
 * Latency is 5 ms so the suite is fast; windows stay at scale 1 so limits are exact.
 */
let mock: RunningMockServer;
const client = (apiKey: string, maxRetries = 0) => new OpenAI({ apiKey, baseURL: mock.baseURL, maxRetries });

beforeAll(async () => {
  mock = await startMockServer({
    profile: loadProfile('openai', {
      latency: { p50: '5ms', p95: '8ms', p99: '10ms', min: 0 },
      pool: { background: { kind: 'none' } },
    }),
  });
});
afterAll(() => mock.close());

describe('the openai SDK against the HTTP mock', () => {
  it.each([
    ['png', '1024x1024', 1024, 1024],
    ['jpeg', '1536x1024', 1536, 1024],
    ['webp', '1024x1536', 1024, 1536],
  ] as const)('generates a %s %s image that decodes', async (format, size, width, height) => {
    const response = await client(`sk-tier5-${format}`).images.generate({ model: 'gpt-image-1.5', prompt: 'a red fox', size, output_format: format, quality: 'low' });
    const meta = await sharp(Buffer.from(response.data![0]!.b64_json!, 'base64')).metadata();
    expect(meta).toMatchObject({ format, width, height });
    expect(response.usage).toMatchObject({ output_tokens: expect.any(Number), input_tokens: expect.any(Number) });
    expect(response.output_format).toBe(format);
    expect(response.size).toBe(size);
  });

  it.each(['sk-tier0-free', 'sk-unverified-acme'])('raises PermissionDeniedError for %s', async (key) => {
    const error = await client(key)
      .images.generate({ model: 'gpt-image-1.5', prompt: 'a red fox' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as APIError).status).toBe(403);
    expect((error as APIError).message).toContain('Your organization must be verified to use the model `gpt-image-1.5`');
  });

  it('raises AuthenticationError for an unknown key', async () => {
    const error = await client('sk-not-a-ratelab-key').models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('raises RateLimitError with the x-ratelimit headers when IPM is exceeded', async () => {
    const sdk = client('sk-tier1-ipm');
    for (let i = 0; i < 5; i++) await sdk.images.generate({ model: 'gpt-image-1.5', prompt: `fox ${i}` });
    const error = (await sdk.images.generate({ model: 'gpt-image-1.5', prompt: 'one more' }).catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
    expect(error.message).toMatch(/on images per min \(IPM\): Limit 5, Used 5, Requested 1\. Please try again in \d+(\.\d+)?(ms|s)\./);
    expect(error.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(error.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(error.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
    expect(error.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    expect(error.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
    expect(error.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(\.\d+)?(ms|s)$/);
    expect(error.requestID).toMatch(/^req_/);
  });

  it('raises InternalServerError after the SDK’s own retries during an outage, and the stats show them', async () => {
    const before = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { clientRetries: { total: number } };
    const injected = await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'outage', duration: '1m' }) });
    expect(injected.status).toBe(201);
    try {
      const error = await client('sk-tier5-outage', 2)
        .images.generate({ model: 'gpt-image-1.5', prompt: 'a red fox' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((error as APIError).status).toBe(503);
    } finally {
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
    }
    const stats = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { clientRetries: { total: number; byRetryCount: Record<string, number> }; byReason: Record<string, number> };
    expect(stats.clientRetries.total - before.clientRetries.total).toBe(2);
    expect(stats.clientRetries.byRetryCount).toMatchObject({ '1': 1, '2': 1 });
    expect(stats.byReason.outage).toBe(3);
  });

  it('lists the model', async () => {
    const models = await client('sk-tier1-list').models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-image-1.5');
    expect(models.data.map((m) => m.id)).not.toContain('gpt-image-1');
  });
});

describe('the openai SDK and what only the mock knows', () => {
  it('refuses a project without preview access with PermissionDeniedError', async () => {
    const closed = await startMockServer({ profile: loadProfile('openai', { latency: { p50: 0, p95: 0, p99: 0, min: 0 } }), timeScale: 0.001 });
    try {
      const error = await new OpenAI({ apiKey: 'sk-tier5-x', baseURL: closed.baseURL, maxRetries: 0 })
        .images.generate({ model: 'gpt-image-2', prompt: 'x', output_format: 'gif' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).param).toBe('output_format');
    } finally {
      await closed.close();
    }
  });

  it("retries 429s as the SDK does (retry-after-ms honoured), and raises RateLimitError with maxRetries 0", async () => {
    const limited = await startMockServer({ profile: loadProfile('openai', { latency: { p50: 0, p95: 0, p99: 0, min: 0 }, limits: { retryAfter: 'ms' } }), timeScale: 0.05 });
    try {
      const opts = { apiKey: 'sk-tier1-retry', baseURL: limited.baseURL };
      const strict = new OpenAI({ ...opts, maxRetries: 0 });
      for (let i = 0; i < 5; i++) await strict.images.generate({ model: 'gpt-image-2', prompt: `p${i}`, quality: 'low' });
      const error = await strict.images.generate({ model: 'gpt-image-2', prompt: 'one more', quality: 'low' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(Number((error as RateLimitError).headers?.get('retry-after-ms'))).toBeGreaterThan(0);
      // The SDK's default retries wait the hinted 600 ms (12 s at scale 1) and get through.
      const patient = await new OpenAI({ ...opts, maxRetries: 2 }).images.generate({ model: 'gpt-image-2', prompt: 'patient', quality: 'low' });
      expect(patient.data).toHaveLength(1);
      const stats = (await (await fetch(`${limited.url}/__admin/stats`)).json()) as { clientRetries: { byRetryCount: Record<string, number> }; byStatus: Record<string, number> };
      expect(stats.clientRetries.byRetryCount['1']).toBeGreaterThanOrEqual(1);
      expect(stats.byStatus['429']).toBeGreaterThanOrEqual(2);
    } finally {
      await limited.close();
    }
  });
});
