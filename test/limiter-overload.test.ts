import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { MockModel } from '../mock-server/model/model.ts';
import { mockOpenAI } from '../mock-server/msw.ts';
import { overload } from './support/overload.ts';

/**
 * 2× an account's capacity, in real time at time scale 0.02 (a minute lasts 1.2 s):
 * tier 2 is 20 images a minute, so 2× is ~33 images a second for 3 scaled minutes.
 */
const SCALE = 0.02;
const TIER2_IPM = 20;
const rate = (2 * TIER2_IPM) / (60 * SCALE);
const seconds = 3 * 60 * SCALE;
const limiterConfig = { budgets: { ipm: { limit: TIER2_IPM }, tpm: { limit: 250_000 } }, queue: { maxWait: '2m' } };

describe.each(['msw', 'http'] as const)('2× capacity through the limiter (%s)', (via) => {
  let baseURL: string;
  let http: RunningMockServer | undefined;
  let msw: ReturnType<typeof setupServer> | undefined;

  beforeAll(async () => {
    const model = new MockModel({ profile: 'openai', timeScale: SCALE, seed: 11 });
    await model.ready();
    if (via === 'http') {
      http = await startMockServer({ model });
      baseURL = http.baseURL;
    } else {
      msw = setupServer(...mockOpenAI('openai', { model }));
      msw.listen({ onUnhandledRequest: 'bypass' });
      baseURL = 'https://api.openai.com/v1';
    }
  });
  afterAll(async () => {
    await http?.close();
    msw?.close();
  });

  it('keeps upstream 429s under 1 % and loses no task; without it, the same load is a 429 storm', async () => {
    const limited = await overload({ baseURL, key: `sk-tier2-${via}-limited`, rate, seconds, timeScale: SCALE, limiter: limiterConfig });
    expect(limited.ended).toBe(limited.offered);
    expect(limited.upstream429 / limited.upstream).toBeLessThan(0.01);
    expect(limited.succeeded).toBeGreaterThan(0.4 * limited.offered);

    const raw = await overload({ baseURL, key: `sk-tier2-${via}-raw`, rate, seconds, timeScale: SCALE });
    expect(raw.ended).toBe(raw.offered);
    expect(raw.upstream429 / raw.upstream).toBeGreaterThan(0.3);
    console.log(`${via}: limited ${JSON.stringify(limited)}; raw ${JSON.stringify(raw)}`);
  });
});
