import { beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import { call, errorOf, generate, settle } from '../../test/support/mock-client.ts';
import { loadProfile } from '../profiles/index.ts';
import { orgIdFor } from './accounts.ts';
import { CATALOGUE } from '../../src/openai/catalogue.ts';
import { MockModel } from './model.ts';
import { validateImageFields } from '../../src/openai/request.ts';

const quick = { p50: '10s', p95: '10s', p99: '10s', min: 0 };
/** Fixed 10 s latency, no background load, no slowdown: outcomes are exact. */
const makeModel = (overrides: Parameters<typeof loadProfile>[1] = {}, profile = 'openai') => {
  const clock = new VirtualClock();
  const calm = { background: { kind: 'none' as const }, slowdown: [[0, 1]] as [number, number][] };
  return { clock, model: new MockModel({ clock, profile: loadProfile(profile, { latency: quick, pool: calm, ...overrides }) }) };
};

beforeAll(() => new MockModel().ready());

describe('account limits on the wire', () => {
  it('answers an IPM overrun with OpenAI’s 429 body and headers, and admits again after the refill', async () => {
    const { clock, model } = makeModel({ limits: { retryAfter: 'both' } });
    const key = 'sk-tier1-ipm';
    const first = Array.from({ length: 5 }, () => generate(model, {}, { key }));
    await clock.runAll();
    const ok = await Promise.all(first);
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const limited = await generate(model, {}, { key });
    expect(limited.status).toBe(429);
    const error = errorOf(limited);
    expect(error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
    expect(error.message).toMatch(
      new RegExp(`^Rate limit reached for gpt-image-1\\.5 in organization ${orgIdFor(key)} on images per min \\(IPM\\): Limit 5, Used 5, Requested 1\\. Please try again in 2s\\.`),
    );
    expect(limited.headers).toMatchObject({
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '50s',
      'x-ratelimit-limit-tokens': '100000',
      'retry-after': '2',
      'retry-after-ms': '2000',
    });
    expect(model.stats.limitRejections).toEqual({ ipm: 1 });
    await clock.advance(2000);
    const again = generate(model, {}, { key });
    await clock.runAll();
    expect((await again).status).toBe(200);
  });

  it('charges tokens by quality × size × n plus the prompt, and refuses on TPM with type "tokens"', async () => {
    const { clock, model } = makeModel({ limits: { tiers: { '1': { ipm: 100, tpm: 10_000 } } } });
    const first = generate(model, { quality: 'high', size: '1536x1024', n: 1, prompt: 'x'.repeat(400) });
    const second = await generate(model, { quality: 'medium', size: '1024x1536', n: 3 });
    await clock.runAll();
    const body = JSON.parse((await first).body);
    expect(body.usage).toEqual({ input_tokens: 100, input_tokens_details: { image_tokens: 0, text_tokens: 100 }, output_tokens: 6208, total_tokens: 6308, output_tokens_details: { image_tokens: 6208, text_tokens: 0 } });
    expect(second.status).toBe(429);
    expect(errorOf(second)).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(errorOf(second).message).toContain('on tokens per min (TPM): Limit 10000, Used 6308, Requested 4757.');
  });

  it('says "Request too large" when a request can never fit', async () => {
    const { model } = makeModel();
    const response = await generate(model, { n: 10 });
    expect(response.status).toBe(429);
    expect(errorOf(response).message).toContain('Request too large for gpt-image-1.5');
    expect(errorOf(response).message).toContain('Limit 5, Requested 10');
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('keeps failed requests charged: an outage burns the budget', async () => {
    const { clock, model } = makeModel();
    model.faults.inject({ kind: 'outage', at: 0, status: 503 }, clock.now());
    for (let i = 0; i < 5; i++) expect((await generate(model)).status).toBe(503);
    model.faults.clear(clock.now());
    expect((await generate(model)).status).toBe(429);
  });

  it('counts requests that come back before their retry-after', async () => {
    const { clock, model } = makeModel();
    model.faults.inject({ kind: 'outage', at: 0, status: 503 }, clock.now());
    for (let i = 0; i < 5; i++) await generate(model);
    await generate(model);
    expect(model.stats.earlyRetries).toBe(0);
    await generate(model);
    await clock.advance(11_999);
    await generate(model);
    expect(model.stats.earlyRetries).toBe(2);
    await clock.advance(12_000);
    model.faults.clear(clock.now());
    expect((await settle(clock, generate(model))).status).toBe(200);
    expect(model.stats.earlyRetries).toBe(2);
  });
});

describe('tier gate and keys', () => {
  it.each([
    ['sk-tier0-free', 403],
    ['sk-unverified-acme', 403],
    ['sk-tier9-nosuchtier', 403],
  ])('%s gets %i with OpenAI’s verification message', async (key, status) => {
    const { model } = makeModel();
    const response = await generate(model, {}, { key });
    expect(response.status).toBe(status);
    expect(errorOf(response)).toMatchObject({ type: 'invalid_request_error', code: null, param: null });
    expect(errorOf(response).message).toMatch(/^Your organization must be verified to use the model `gpt-image-1\.5`\./);
  });

  it.each([
    [null, null],
    ['sk-proj-real-looking-key', 'invalid_api_key'],
  ])('key %s gets 401 without echoing the key', async (key, code) => {
    const { model } = makeModel();
    const response = await generate(model, {}, { key });
    expect(response.status).toBe(401);
    expect(errorOf(response).code).toBe(code);
    expect(response.body).not.toContain('real-looking');
  });

  it('upgrades a tier through the admin API after a scaled delay', async () => {
    const clock = new VirtualClock();
    const model = new MockModel({ clock, timeScale: 0.001, profile: loadProfile('openai', { latency: quick }) });
    await generate(model, {}, { key: 'sk-tier0-upgrade' });
    const admin = await call(model, { path: '/__admin/tier', body: { key: 'sk-tier0-upgrade', tier: 2, after: '36h' } });
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body).scheduledIn).toBeCloseTo(129_600, 6);
    await clock.advance(129_599);
    expect((await generate(model, {}, { key: 'sk-tier0-upgrade' })).status).toBe(403);
    await clock.advance(1);
    const upgraded = generate(model, {}, { key: 'sk-tier0-upgrade' });
    await clock.runAll();
    expect((await upgraded).headers['x-ratelimit-limit-requests']).toBe('20');
  });
});

describe('faults', () => {
  it('follows the profile timeline: outage, then injected 500s, then a latency spike', async () => {
    const { clock, model } = makeModel({
      faults: [
        { kind: 'outage', at: '1m', duration: '1m' },
        { kind: 'error', at: '2m', duration: '1m', rate: 1, status: 500 },
        { kind: 'latency', at: '3m', duration: '1m', factor: 3 },
      ],
    });
    const at = async (minute: number) => {
      await clock.advanceTo(model.startedAt + minute * 60_000);
      const pending = generate(model, {}, { key: `sk-tier5-${minute}` });
      await clock.advance(60_000);
      return pending;
    };
    expect((await at(0.5)).status).toBe(200);
    const outage = await at(1.5);
    expect(outage.status).toBe(503);
    expect(errorOf(outage).type).toBe('server_error');
    const error = await at(2.5);
    expect(error.status).toBe(500);
    expect(errorOf(error).message).toBe('The server had an error while processing your request. Sorry about that!');
    const slow = await at(3.1);
    expect(slow.status).toBe(200);
    expect(Number(slow.headers['openai-processing-ms'])).toBe(30_000);
    expect(model.stats.byReason).toMatchObject({ ok: 2, outage: 1, injected_error: 1 });
  });

  it('resets connections and stalls, through the admin API', async () => {
    const { clock, model } = makeModel();
    const add = await call(model, { path: '/__admin/faults', body: { kind: 'reset', rate: 1, duration: '10s' } });
    expect(add.status).toBe(201);
    expect((await generate(model)).reset).toBe(true);
    await clock.advance(10_000);
    await call(model, { path: '/__admin/faults', body: [{ kind: 'stall', rate: 1, stallFor: '30s' }] });
    const stalled = generate(model);
    await clock.advance(29_999);
    let settled = false;
    void stalled.then(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect((await stalled).reset).toBe(true);
    const listed = JSON.parse((await call(model, { method: 'GET', path: '/__admin/faults', key: null })).body);
    expect(listed.faults).toHaveLength(1);
    expect(JSON.parse((await call(model, { method: 'DELETE', path: '/__admin/faults' })).body)).toEqual({ removed: 1 });
    expect(model.stats.byReason).toMatchObject({ reset: 1, stall: 1 });
  });

  it('rejects a malformed fault with a message naming the field', async () => {
    const { model } = makeModel();
    const response = await call(model, { path: '/__admin/faults', body: { kind: 'error', rate: 2 } });
    expect(response.status).toBe(400);
    expect(errorOf(response).message).toContain('Expected `rate` to be a number from 0 to 1, got `2` (number)');
  });

  it('guards the admin API: loopback only, and the token when configured', async () => {
    const clock = new VirtualClock();
    const model = new MockModel({ clock, adminToken: 'let-me-in' });
    const remote = await model.handle({ method: 'GET', path: '/__admin/stats', headers: {}, body: new Uint8Array(), loopback: false });
    expect(remote.status).toBe(403);
    expect((await call(model, { method: 'GET', path: '/__admin/stats' })).status).toBe(401);
    expect((await call(model, { method: 'GET', path: '/__admin/stats', headers: { 'x-ratelab-admin-token': 'let-me-in' } })).status).toBe(200);
    // Prefixes, extensions and one-character misses are all just wrong (compared as fixed-length digests).
    for (const guess of ['let-me', 'let-me-in!', 'let-me-im', '']) {
      expect((await call(model, { method: 'GET', path: '/__admin/stats', headers: { 'x-ratelab-admin-token': guess } })).status).toBe(401);
    }
  });
});

describe('responses', () => {
  it('echoes the resolved fields and returns n images', async () => {
    const { clock, model } = makeModel();
    const pending = generate(model, { n: 3, size: 'auto', quality: 'low', output_format: 'webp', background: 'transparent', output_compression: 50 }, { key: 'sk-tier5-n' });
    await clock.runAll();
    const body = JSON.parse((await pending).body);
    expect(body).toMatchObject({ background: 'transparent', output_format: 'webp', quality: 'low', size: '1024x1024' });
    expect(body.data).toHaveLength(3);
    expect(body.created).toBe(Math.floor(clock.now() / 1000));
  });

  it("lists the catalogue's active models, and answers a shut-down one as OpenAI does", async () => {
    const { model } = makeModel();
    const list = JSON.parse((await call(model, { method: 'GET', path: '/v1/models' })).body);
    expect(list.data.map((m: { id: string }) => m.id)).toEqual(CATALOGUE.active());
    expect(list.data.map((m: { id: string }) => m.id)).toContain('gpt-image-2.5-flare-2026-09-08');
    expect(list.data.map((m: { id: string }) => m.id)).not.toContain('gpt-image-1');
    expect((await call(model, { method: 'GET', path: '/v1/models/gpt-image-2' })).status).toBe(200);
    for (const id of ['dall-e-3', 'gpt-image-1']) {
      const gone = await call(model, { method: 'GET', path: `/v1/models/${id}` });
      expect(gone.status).toBe(404);
      expect(errorOf(gone).code).toBe('model_not_found');
      expect(errorOf(gone).message).toContain('has been shut down');
    }
    const missing = await call(model, { method: 'GET', path: '/v1/models/gpt-image-9' });
    expect(errorOf(missing)).toMatchObject({ code: 'model_not_found' });
    expect(errorOf(missing).message).toContain('does not exist');
  });

  it('exposes its metrics from the catalogue', async () => {
    const { clock, model } = makeModel();
    const pending = generate(model);
    await clock.runAll();
    await pending;
    await generate(model, {}, { key: 'sk-tier0-x' });
    const text = (await call(model, { method: 'GET', path: '/metrics' })).body;
    expect(text).toContain('ratelab_mock_requests_total{status="200",reason="ok"} 1');
    expect(text).toContain('ratelab_mock_requests_total{status="403",reason="tier_gate"} 1');
    expect(text).toMatch(/ratelab_mock_service_seconds_count\{quality="medium",size="1024x1024"\} 1/);
    expect(text).toContain('ratelab_mock_slots 256');
  });
});

describe('handleImage: a validated request from our side of the wire (the simulator)', () => {
  it('answers what handle answers for the same requests, without reading or building the bytes', async () => {
    const http = makeModel();
    const direct = makeModel();
    const body = { prompt: 'a lighthouse at dawn', quality: 'low' };
    const key = 'sk-tier1-direct';
    const image = validateImageFields(body, direct.model.validationFor('generations'));
    // Seven at once on a tier-1 account (IPM 5): five images and two limit 429s, on both paths.
    const viaHttp = Array.from({ length: 7 }, () => generate(http.model, body, { key }));
    const viaDirect = Array.from({ length: 7 }, () => direct.model.handleImage(image, { headers: { authorization: `Bearer ${key}` }, imageBody: false }));
    await Promise.all([http.clock.runAll(), direct.clock.runAll()]);
    const [a, b] = [await Promise.all(viaHttp), await Promise.all(viaDirect)];
    expect(b.map((r) => r.status)).toEqual(a.map((r) => r.status));
    expect(b.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    for (let i = 0; i < 7; i++) {
      expect(b[i]!.headers).toEqual(a[i]!.headers);
      if (a[i]!.status === 200) {
        expect(JSON.parse(a[i]!.body)).toHaveProperty('data');
        expect(b[i]!.body).toBe('');
      } else {
        // The error both as text (what a client reads) and as the object the limiter reads.
        expect(b[i]!.body).toBe(a[i]!.body);
        expect(b[i]!.error).toEqual(errorOf(a[i]!));
      }
    }
    expect(direct.model.stats).toEqual(http.model.stats);
  });

  it('a model with metrics: false counts nothing for /metrics and says so', async () => {
    const clock = new VirtualClock();
    const model = new MockModel({ clock, metrics: false, images: 'placeholder' });
    const answer = generate(model, {}, { key: 'sk-tier3-quiet' });
    await clock.runAll();
    expect((await answer).status).toBe(200);
    expect(model.stats.total).toBe(1);
    const scrape = await call(model, { method: 'GET', path: '/metrics' });
    expect(scrape.status).toBe(404);
    expect(errorOf(scrape).message).toMatch(/metrics: false/);
  });
});
