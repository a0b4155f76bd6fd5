import OpenAI, { RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { createLimiter } from '../src/limiter/index.ts';

/** The limiter wrapping the official SDK (maxRetries: 0: the limiter owns retries). */
let mock: RunningMockServer;
beforeAll(async () => {
  mock = await startMockServer({
    timeScale: 0.01,
    profile: loadProfile('openai', { limits: { retryAfter: 'ms' }, latency: { p50: '2s', p95: '3s', p99: '4s', min: 0 }, pool: { background: { kind: 'none' } } }),
  });
});
afterAll(() => mock.close());

describe('limiter + openai SDK', () => {
  it('learns the limits from .withResponse() headers, paces, and ends with zero 429s surfaced', async () => {
    const client = new OpenAI({ apiKey: 'sk-tier1-sdk', baseURL: mock.baseURL, maxRetries: 0 });
    const limiter = createLimiter({ budgets: { requestsHeader: 'ipm' } }, { timeScale: 0.01 });
    const request = { model: 'gpt-image-1.5', prompt: 'a lighthouse', quality: 'low' } as const;
    const results = await Promise.all(
      Array.from({ length: 12 }, () => limiter.execute((ctx) => client.images.generate(request, { signal: ctx.signal }).withResponse(), { cost: request })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.every((r) => r.value!.response.status === 200)).toBe(true);
    expect(limiter.state().store.limits.ipm).toBe(5);
    const stats = (await (await fetch(`${mock.url}/__admin/stats`)).json()) as { byStatus: Record<string, number> };
    // Before the first answer the limit is unknown: the first burst (the starting concurrency,
    // 8) meets at most 8 − 5 = 3 429s, which are retried after their retry-after. From the
    // first answer on, the limits are known and no further 429 comes; all twelve succeed.
    expect(stats.byStatus['200']).toBe(12);
    expect(stats.byStatus['429'] ?? 0).toBeLessThanOrEqual(3);
  });

  it('classifies the SDK’s RateLimitError as a limit and waits out its retry-after', async () => {
    const client = new OpenAI({ apiKey: 'sk-tier1-sdk-errors', baseURL: mock.baseURL, maxRetries: 0 });
    // Use the whole IPM outside the limiter, so the limiter's first attempt gets a 429.
    await Promise.all(Array.from({ length: 5 }, () => client.images.generate({ model: 'gpt-image-1.5', prompt: 'x', quality: 'low' })));
    const direct = await client.images.generate({ model: 'gpt-image-1.5', prompt: 'x' }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(RateLimitError);
    const limiter = createLimiter({ budgets: { syncFromHeaders: false } }, { timeScale: 0.01 });
    const e = await limiter.execute(() => client.images.generate({ model: 'gpt-image-1.5', prompt: 'x', quality: 'low' }));
    expect(e.ok).toBe(true);
    expect(e.attempts).toBeGreaterThanOrEqual(2);
    expect((e.value as { usage?: unknown }).usage).toBeDefined();
  });
});
