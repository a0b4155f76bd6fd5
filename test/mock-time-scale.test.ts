import { afterEach, describe, expect, it } from 'vitest';
import { parseGoDuration } from '../src/core/duration.ts';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';

let mock: RunningMockServer | undefined;
afterEach(() => mock?.close());

const generate = (key: string, body: Record<string, unknown> = {}) =>
  fetch(`${mock!.baseURL}/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a harbour at night', ...body }),
  });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('time scale, seen by a real client on the real clock', () => {
  // One fixed 25 s latency, not the article's distribution: the distribution is proven on the
  // virtual clock; here only the clock's scaling is, and a 200-draw median carries ~5 % of
  // sampling luck that a loaded 2-core CI machine then pushed over the bound.
  it('at s = 0.01 a 25 s generation takes 250 ms on the server and is seen as ~250 ms by the client', async () => {
    const fixed = { p50: '25s', p95: '25s', p99: '25s', min: 0 };
    mock = await startMockServer({ timeScale: 0.01, profile: loadProfile('article', { latency: fixed, pool: { slowdown: [[0, 1]] } }) });
    const observed: number[] = [];
    const processing: number[] = [];
    const worker = async (index: number): Promise<void> => {
      // Staggered so the 40 workers do not answer in one burst every 250 ms.
      await new Promise((r) => setTimeout(r, index * 6));
      while (observed.length < 200) {
        const started = performance.now();
        const response = await generate('sk-tier5-scale');
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        observed.push(performance.now() - started);
        processing.push(Number(response.headers.get('openai-processing-ms')));
      }
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => worker(i)));
    // The server's own timing is the time scale's doing: 250 ms, late by little even on a
    // loaded machine (libuv's cached loop time lets a timer fire up to ~2 ms early).
    expect(Math.min(...processing)).toBeGreaterThanOrEqual(250 * 0.98);
    expect(median(processing)).toBeLessThan(250 * 1.04);
    // The client, in the same process, adds transport: +8–16 ms idle, +60 ms with both cores
    // busy elsewhere. A broken scale would be off by ×100 or ÷100, or by the unscaled 3 s floor.
    expect(Math.min(...observed)).toBeGreaterThanOrEqual(250 * 0.98);
    expect(median(observed)).toBeLessThan(250 * 1.5);
  });

  it('reset and retry hints are in real (scaled) time, and honouring them works', async () => {
    mock = await startMockServer({
      timeScale: 0.01,
      profile: loadProfile('openai', { limits: { retryAfter: 'ms' }, latency: { p50: '1s', p95: '1s', p99: '1s', min: 0 } }),
    });
    const first = await Promise.all(Array.from({ length: 5 }, () => generate('sk-tier1-scale', { quality: 'low' })));
    expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const limited = await generate('sk-tier1-scale', { quality: 'low' });
    expect(limited.status).toBe(429);
    const retryAfterMs = Number(limited.headers.get('retry-after-ms'));
    // One image refills in 60 s / 5 = 12 s of profile time: 120 ms at s = 0.01.
    expect(retryAfterMs).toBeGreaterThan(60);
    expect(retryAfterMs).toBeLessThanOrEqual(120);
    const resetMs = parseGoDuration(limited.headers.get('x-ratelimit-reset-requests')!);
    expect(resetMs).toBeGreaterThan(400);
    expect(resetMs).toBeLessThanOrEqual(600);
    const message = ((await limited.json()) as { error: { message: string } }).error.message;
    const hinted = parseGoDuration(/Please try again in (\S+)\./.exec(message)![1]!);
    expect(hinted).toBe(retryAfterMs);
    await new Promise((r) => setTimeout(r, retryAfterMs + 5));
    expect((await generate('sk-tier1-scale', { quality: 'low' })).status).toBe(200);
  });
});
