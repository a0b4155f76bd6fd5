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
  it('at s = 0.01 a P50 of 25 s is observed as ~250 ms', async () => {
    mock = await startMockServer({ timeScale: 0.01, profile: loadProfile('article', { pool: { slowdown: [[0, 1]] } }) });
    const observed: number[] = [];
    const worker = async (): Promise<void> => {
      while (observed.length < 200) {
        const started = performance.now();
        const response = await generate('sk-tier5-scale');
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        observed.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: 40 }, worker));
    expect(Math.abs(median(observed) / 250 - 1)).toBeLessThan(0.15);
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
