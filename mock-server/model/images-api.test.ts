import { beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import { call, errorOf, generate, settle } from '../../test/support/mock-client.ts';
import { loadProfile } from '../profiles/index.ts';
import { MockModel, partialTimes } from './model.ts';
import type { MockResponse } from './types.ts';

/** Fixed 10 s latency, no background load, no slowdown: outcomes are exact. */
function makeModel(overrides: Parameters<typeof loadProfile>[1] = {}) {
  const clock = new VirtualClock();
  const quick = { p50: '10s', p95: '10s', p99: '10s', min: 0 };
  const calm = { background: { kind: 'none' as const }, slowdown: [[0, 1]] as [number, number][] };
  const model = new MockModel({ clock, profile: loadProfile('openai', { latency: quick, ...overrides, pool: { ...calm, ...overrides.pool } }) });
  return { clock, model };
}

// Encoding images is real I/O the virtual clock cannot wait for: render the standard ones first.
beforeAll(() => new MockModel().ready());

/** Reads a streamed answer on the virtual clock: each event with the clock time it came at. */
async function events(clock: VirtualClock, response: MockResponse): Promise<{ at: number; type: string; data: Record<string, unknown> }[]> {
  const out: { at: number; type: string; data: Record<string, unknown> }[] = [];
  const start = clock.now();
  const read = (async () => {
    for await (const chunk of response.stream!) {
      const type = /^event: (\S+)/.exec(chunk)![1]!;
      out.push({ at: clock.now() - start, type, data: JSON.parse(chunk.slice(chunk.indexOf('data: ') + 6)) as Record<string, unknown> });
    }
  })();
  await settle(clock, read);
  return out;
}

describe('streaming (stream: true)', () => {
  it('sends partial images spread over the generation, then the completed event with usage', async () => {
    const { clock, model } = makeModel();
    const response = await settle(clock, generate(model, { model: 'gpt-image-2', stream: true, partial_images: 3, quality: 'medium' }));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const got = await events(clock, response);
    expect(got.map((e) => e.type)).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    // Medium gpt-image-2 1024²: 0.3 + 0.7 × (1767 / 1056) of the 10 s reference (gpt-image-1.5 medium).
    const service = 10_000 * (0.3 + 0.7 * (1767 / 1056));
    expect(got.map((e) => e.at)).toEqual([0.3, 0.575, 0.85, 1].map((share) => expect.closeTo(share * service, 2)));
    expect(got.map((e) => e.data.partial_image_index)).toEqual([0, 1, 2, undefined]);
    expect(got[3]!.data).toMatchObject({ type: 'image_generation.completed', quality: 'medium', size: '1024x1024', output_format: 'png', background: 'opaque' });
    expect(got[3]!.data.usage).toMatchObject({ output_tokens: 1767, input_tokens_details: { image_tokens: 0 } });
    expect(typeof got[0]!.data.b64_json).toBe('string');
  });

  it('sends the final image before all partials when the image is fast, and one event with partial_images 0', () => {
    const timing = { firstPartialAt: 0.3, lastPartialAt: 0.85, minGap: 1_000 };
    expect(partialTimes(3, 10_000, timing)).toEqual([3000, 5750, 8500]);
    expect(partialTimes(3, 2_000, timing)).toEqual([600]);
    expect(partialTimes(3, 1_000, timing)).toEqual([]);
    expect(partialTimes(0, 10_000, timing)).toEqual([]);
  });

  it('holds the GPU slot until the last event, and frees it at once when the client leaves', async () => {
    const { clock, model } = makeModel({ pool: { slots: 1, queue: 4 } });
    const gone = new AbortController();
    const streamed = await settle(clock, generate(model, { model: 'gpt-image-2', stream: true, partial_images: 2 }, { signal: gone.signal }));
    const it = streamed.stream![Symbol.asyncIterator]();
    const first = it.next();
    await settle(clock, first);
    expect(model.pool.state().busy).toBe(1);
    // A second request waits for the one slot…
    const waiting = generate(model, {}, { key: 'sk-tier1-other' });
    await clock.advance(100);
    expect(model.pool.state().queued).toBe(1);
    // …until the streaming client goes away mid-stream.
    const next = it.next();
    gone.abort();
    await expect(next).rejects.toThrow();
    await clock.advance(0);
    expect(model.pool.state().queued).toBe(0);
    expect((await settle(clock, waiting)).status).toBe(200);
  });

  it('streams edits as image_edit.* events', async () => {
    const { clock, model } = makeModel();
    const response = await settle(clock, call(model, { path: '/v1/images/edits', body: { model: 'gpt-image-1.5', prompt: 'x', stream: true, partial_images: 1, images: [{ file_id: 'file-1' }] } }));
    expect((await events(clock, response)).map((e) => e.type)).toEqual(['image_edit.partial_image', 'image_edit.completed']);
  });
});

describe('moderation', () => {
  it('blocks at the input stage at once, charging nothing', async () => {
    const { clock, model } = makeModel();
    model.faults.inject({ kind: 'moderation', at: 0, rate: 1, stage: 'input' }, 0);
    const start = clock.now();
    const blocked = await generate(model, {}, { key: 'sk-tier1-mod' });
    expect(blocked.status).toBe(400);
    expect(clock.now()).toBe(start);
    expect(JSON.parse(blocked.body).error).toMatchObject({ type: 'image_generation_user_error', code: 'moderation_blocked', param: null, moderation_details: { moderation_stage: 'input' } });
    expect(blocked.headers['x-ratelimit-remaining-requests']).toBe('5');
  });

  it('blocks at the output stage after the generation, tokens charged', async () => {
    // An hour's window: little refills while the image is generated.
    const { clock, model } = makeModel({ limits: { window: '1h' } });
    model.faults.inject({ kind: 'moderation', at: 0, rate: 1, stage: 'output' }, 0);
    const start = clock.now();
    const blocked = await settle(clock, generate(model, { quality: 'high' }, { key: 'sk-tier1-mod' }));
    expect(blocked.status).toBe(400);
    expect(clock.now() - start).toBeGreaterThan(10_000);
    expect(JSON.parse(blocked.body).error.moderation_details.moderation_stage).toBe('output');
    // Charged: one of the 5 images is spent, and the high-quality image's 4160 tokens too.
    expect(blocked.headers['x-ratelimit-remaining-requests']).toBe('4');
    expect(Number(blocked.headers['x-ratelimit-remaining-tokens'])).toBeLessThan(100_000 - 4160 + 1_000);
    expect(model.stats.byReason.moderation_blocked).toBe(1);
  });

  it('ends a stream blocked at the output stage with an error event, counted once', async () => {
    const { clock, model } = makeModel();
    model.faults.inject({ kind: 'moderation', at: 0, rate: 1, stage: 'output' }, 0);
    const response = await settle(clock, generate(model, { model: 'gpt-image-2', stream: true, partial_images: 1 }));
    const got = await events(clock, response);
    expect(got.map((e) => e.type)).toEqual(['image_generation.partial_image', 'error']);
    expect(got[1]!.data).toMatchObject({ type: 'error', error: { code: 'moderation_blocked', moderation_details: { moderation_stage: 'output' } } });
    expect(model.stats.total).toBe(1);
    expect(model.stats.byReason).toEqual({ moderation_blocked: 1 });
  });

  it('draws from the profile rate, seeded', async () => {
    const { clock, model } = makeModel({ moderation: { rate: 0.5, outputShare: 0 }, limits: { tiers: { '1': { rpm: 1000 } } } });
    const answers = await settle(clock, Promise.all(Array.from({ length: 200 }, (_, i) => generate(model, { prompt: `p${i}` }))));
    const blocked = answers.filter((a) => a.status === 400).length;
    expect(blocked).toBeGreaterThan(70);
    expect(blocked).toBeLessThan(130);
  });
});

describe('edits', () => {
  it('counts input images in usage and against TPM, and takes longer with more of them', async () => {
    const { clock, model } = makeModel({ limits: { window: '1h' } });
    const refs = (n: number) => Array.from({ length: n }, () => ({ file_id: 'file-x' }));
    const start = clock.now();
    const one = await settle(clock, call(model, { path: '/v1/images/edits', body: { prompt: 'x', images: refs(1) }, key: 'sk-tier5-a' }));
    const t1 = clock.now() - start;
    const four = await settle(clock, call(model, { path: '/v1/images/edits', body: { prompt: 'x', images: refs(4) }, key: 'sk-tier5-a' }));
    const t4 = clock.now() - start - t1;
    const usage = (r: MockResponse) => JSON.parse(r.body).usage;
    expect(usage(one).input_tokens_details.image_tokens).toBe(65 + 129 * 4);
    expect(usage(four).input_tokens_details.image_tokens).toBe(4 * (65 + 129 * 4));
    expect(usage(four).input_tokens).toBe(usage(four).input_tokens_details.image_tokens + usage(four).input_tokens_details.text_tokens);
    expect(t4 / t1).toBeCloseTo(1.4 / 1.1, 6);
    // Both are charged on the account's TPM (8M an hour here; what refilled since the first is back).
    const expected = 8_000_000 - usage(one).total_tokens - usage(four).total_tokens + (8_000_000 * (t1 + t4)) / 3_600_000;
    expect(Math.abs(Number(four.headers['x-ratelimit-remaining-tokens']) - Math.min(8_000_000, expected))).toBeLessThanOrEqual(1);
  });

  it('answers a retired endpoint and a retired model as OpenAI does', async () => {
    const { model } = makeModel();
    const variations = await call(model, { path: '/v1/images/variations', body: {} });
    expect(variations.status).toBe(404);
    expect(errorOf(variations).message).toContain('variations endpoint is retired');
    const retired = await call(model, { path: '/v1/images/edits', body: { model: 'gpt-image-1', prompt: 'x', images: [{ file_id: 'f' }] } });
    expect(retired.status).toBe(404);
    expect(errorOf(retired).code).toBe('model_not_found');
    expect(model.stats.byReason.retired_model).toBe(1);
  });
});
