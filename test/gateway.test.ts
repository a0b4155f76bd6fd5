import OpenAI, { AuthenticationError, BadRequestError, PermissionDeniedError, RateLimitError } from 'openai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';

const SCALE = 0.01;
const UPSTREAM_KEY = 'sk-tier3-upstream-secret-7f3a';
let mock: RunningMockServer;
let gateway: RunningGateway;
const client = (apiKey = DEV_CLIENT_KEY) => new OpenAI({ apiKey, baseURL: gateway.baseURL, maxRetries: 0 });

beforeAll(async () => {
  mock = await startMockServer({ timeScale: SCALE, profile: loadProfile('openai', { pool: { background: { kind: 'none' } } }) });
  gateway = await startGateway({ upstream: mock.baseURL, upstreamKey: UPSTREAM_KEY, timeScale: SCALE, limiter: { queue: { maxSize: 200 } } });
});
afterAll(async () => {
  await gateway.close();
  await mock.close();
});

describe('gateway, sync API, with the openai SDK', () => {
  it('generates an image through the limiter and says where the time went', async () => {
    const { data, response } = await client().images.generate({ model: 'gpt-image-1.5', prompt: 'a fox', quality: 'low', output_format: 'webp' }).withResponse();
    const meta = await sharp(Buffer.from(data.data![0]!.b64_json!, 'base64')).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 1024, height: 1024 });
    expect(response.headers.get('x-ratelab-attempts')).toBe('1');
    expect(response.headers.get('x-ratelab-upstream-status')).toBe('200');
    expect(Number(response.headers.get('x-ratelab-queue-ms'))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('50');
  });

  it('refuses unknown client keys with 401 and validates like the provider, without calling it', async () => {
    await expect(client('sk-someone-else').images.generate({ model: 'gpt-image-1.5', prompt: 'x' })).rejects.toBeInstanceOf(AuthenticationError);
    const before = ((await (await fetch(`${mock.url}/__admin/stats`)).json()) as { total: number }).total;
    const error = await client().images.generate({ model: 'gpt-image-1.5', prompt: 'x', n: 11 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('n');
    const after = ((await (await fetch(`${mock.url}/__admin/stats`)).json()) as { total: number }).total;
    expect(after).toBe(before);
  });

  it('passes provider errors through with their status and body', async () => {
    const denied = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier0-free-upstream', timeScale: SCALE });
    try {
      const error = await new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: denied.baseURL, maxRetries: 0 }).images.generate({ model: 'gpt-image-1.5', prompt: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).message).toContain('Your organization must be verified');
    } finally {
      await denied.close();
    }
  });

  it('sheds with its own code and retry-after, distinguishable from a provider 429', async () => {
    const tiny = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-tiny', timeScale: SCALE, limiter: { concurrency: { mode: 'fixed', limit: 1 }, queue: { maxSize: 1 } } });
    try {
      const sdk = new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: tiny.baseURL, maxRetries: 0 });
      const calls = Array.from({ length: 4 }, () => sdk.images.generate({ model: 'gpt-image-1.5', prompt: 'x', quality: 'low' }).catch((e: unknown) => e));
      const results = await Promise.all(calls);
      const shed = results.filter((r) => r instanceof RateLimitError) as RateLimitError[];
      expect(shed.length).toBeGreaterThanOrEqual(1);
      expect(shed[0]!.code).toBe('queue_full');
      expect(shed[0]!.type).toBe('ratelab_gateway_error');
      // It says why and what would change it, and carries an id of the gateway's own to quote.
      expect(shed[0]!.message).toMatch(/queue for this upstream is full \(limiter queue\.maxSize\)\. Retry after retry-after, raise queue\.maxSize, or add capacity/);
      expect(shed[0]!.requestID).toMatch(/^req_gw_[0-9a-f]{32}$/);
      // An image passed through keeps the provider's own request id.
      const image = results.find((r) => !(r instanceof Error)) as { _request_id?: string | null } | undefined;
      expect(image?._request_id).toMatch(/^req_[0-9a-f]{24}$/);
    } finally {
      await tiny.close();
    }
  });

  it('never lets the upstream key reach an answer, an error or a metric', async () => {
    const texts: string[] = [];
    const ok = await fetch(`${gateway.baseURL}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', quality: 'low' }) });
    texts.push(JSON.stringify([...ok.headers]), await ok.text());
    const bad = await fetch(`${gateway.baseURL}/images/generations`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{' });
    texts.push(JSON.stringify([...bad.headers]), await bad.text());
    texts.push(await (await fetch(`${gateway.url}/metrics`)).text());
    for (const text of texts) expect(text).not.toContain(UPSTREAM_KEY);
    expect(texts.at(-1)).toContain('ratelab_limiter_tasks_total{upstream="default",outcome="ok"}');
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${gateway.url}/readyz`)).json()).toEqual({ status: 'ready', reasons: [], warnings: [], circuits: { default: 'closed' }, jobs: 'memory' });
  });
});

describe('gateway shutdown', () => {
  it('gives every request exactly one answer: running ones finish, queued ones get 503 shutdown', async () => {
    const gw = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-shutdown', timeScale: SCALE, limiter: { concurrency: { mode: 'fixed', limit: 2 } } });
    const send = () =>
      fetch(`${gw.baseURL}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', quality: 'low' }) }).then(
        async (r) => ({ status: r.status, code: r.status === 200 ? null : ((await r.json()) as { error: { code: string } }).error.code }),
        (e: unknown) => ({ status: 0, code: String(e) }),
      );
    const requests = Array.from({ length: 8 }, send);
    await new Promise((r) => setTimeout(r, 50));
    await gw.close(10_000);
    const answers = await Promise.all(requests);
    expect(answers).toHaveLength(8);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 503 && a.code === 'shutdown')).toHaveLength(6);
    expect(answers.filter((a) => a.status === 0)).toHaveLength(0);
  });

  it('answers a request waiting out a provider retry-after with 503 shutdown at once, not after the grace period', async () => {
    // A provider that is out of quota for the next minute.
    const limited = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    const gw = await startGateway({ upstream: `http://127.0.0.1:${(limited.address() as AddressInfo).port}/v1`, upstreamKey: 'sk-tier3-limited', timeScale: 1 });
    try {
      const answer = fetch(`${gw.baseURL}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', quality: 'low' }) }).then(
        async (r) => ({ status: r.status, code: ((await r.json()) as { error: { code: string } }).error.code }),
        (e: unknown) => ({ status: 0, code: String(e) }),
      );
      await new Promise((r) => setTimeout(r, 200)); // the first attempt got its 429; the retry waits 60 s
      const t0 = performance.now();
      await gw.close(5_000);
      expect(await answer).toEqual({ status: 503, code: 'shutdown' });
      expect(performance.now() - t0).toBeLessThan(2_000);
    } finally {
      await gw.close();
      await new Promise((resolve) => limited.close(resolve));
    }
  });
});

describe('gateway result cache', () => {
  it('is off by default; when on, identical requests hit, concurrent ones coalesce, and a header opts out', async () => {
    const post = (url: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ prompt: 'same prompt', quality: 'low' }) });
    const stats = async () => ((await (await fetch(`${mock.url}/__admin/stats`)).json()) as { total: number }).total;

    let before = await stats();
    await Promise.all([post(gateway.baseURL), post(gateway.baseURL)].map((p) => p.then((r) => r.arrayBuffer())));
    expect((await stats()) - before).toBe(2);

    const cached = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-cache', timeScale: SCALE, cacheTtlMs: 60_000 });
    try {
      before = await stats();
      const first = await Promise.all([post(cached.baseURL), post(cached.baseURL), post(cached.baseURL)]);
      const bodies = await Promise.all(first.map((r) => r.text()));
      expect(new Set(bodies).size).toBe(1);
      expect(first.map((r) => r.headers.get('x-ratelab-cache')).sort()).toEqual(['coalesced', 'coalesced', null]);
      const again = await post(cached.baseURL);
      expect(again.headers.get('x-ratelab-cache')).toBe('hit');
      await again.arrayBuffer();
      const optedOut = await post(cached.baseURL, { 'cache-control': 'no-cache' });
      await optedOut.arrayBuffer();
      expect((await stats()) - before).toBe(2);
      const metrics = await (await fetch(`${cached.url}/metrics`)).text();
      expect(metrics).toContain('ratelab_gateway_cache_total{result="hit"} 1');
      expect(metrics).toContain('ratelab_gateway_cache_total{result="coalesced"} 2');
      expect(metrics).toContain('ratelab_gateway_cache_total{result="bypass"} 1');
    } finally {
      await cached.close();
    }
  });
});

describe('gateway coalescing', () => {
  it('a joined request still gets its image when the client that started the call leaves', async () => {
    const cached = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-leader', timeScale: SCALE, cacheTtlMs: 60_000 });
    try {
      const init = (signal?: AbortSignal): RequestInit => ({
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'leader leaves', quality: 'low' }),
        signal,
      });
      const leader = new AbortController();
      const first = fetch(`${cached.baseURL}/images/generations`, init(leader.signal)).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 20));
      const joined = fetch(`${cached.baseURL}/images/generations`, init());
      await new Promise((r) => setTimeout(r, 20));
      leader.abort();
      expect(await first).toBeInstanceOf(Error);
      const answer = await joined;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-ratelab-cache')).toBe('coalesced');
    } finally {
      await cached.close();
    }
  });
});
