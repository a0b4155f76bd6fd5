import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIXES } from '../loadtests/mixes.ts';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { realClock } from '../src/core/clock.ts';
import { runLoad } from '../src/loadgen/engine.ts';
import { sdkIteration } from '../src/loadgen/sdk-iteration.ts';

/** `compare`'s no-limiter strategy sends the mix through the official SDK: generations, streams read to their end, edits with their references as files. */
let mock: RunningMockServer;
beforeAll(async () => {
  mock = await startMockServer({ profile: 'openai', timeScale: 0.002, seed: 5, port: 0 });
});
afterAll(async () => {
  await mock?.close();
});

describe('sdkIteration with a mix', () => {
  it('sends every class of the default mix through the SDK and records it by class, a stream with its first image', { timeout: 60_000 }, async () => {
    const classes = MIXES.default!.classes.map((c) => c.name);
    const run = await runLoad({
      options: { scenarios: { s: { executor: 'shared-iterations', vus: 8, iterations: 60 } }, thresholds: {} },
      subMetrics: classes.flatMap((c) => [`http_reqs{class:${c}}`, `http_req_duration{class:${c},status:200}`, `ratelab_time_to_first_image{class:${c}}`]),
      iterations: (metrics) => ({ default: sdkIteration(metrics, { baseURL: mock.baseURL, apiKey: 'sk-tier5-sdk-mix', model: 'gpt-image-1.5', clock: realClock, timeoutMs: 30_000, mix: MIXES.default! }).fn }),
    });
    expect(run.metrics.get('http_reqs')!.sum).toBe(60);
    expect(run.metrics.get('http_req_failed')!.passes).toBe(0);
    const count = (c: string) => run.metrics.get(`http_reqs{class:${c}}`)!.sum;
    expect(classes.reduce((a, c) => a + count(c), 0)).toBe(60);
    for (const c of ['gen-medium', 'gen-preview', 'edit-medium']) expect(count(c), c).toBeGreaterThan(0);
    const preview = (name: string) => run.metrics.get(`${name}{class:gen-preview}`)!.trend!;
    // The stream's first partial came before its final image.
    expect(preview('ratelab_time_to_first_image').percentile(50)).toBeLessThan(run.metrics.get('http_req_duration{class:gen-preview,status:200}')!.trend!.percentile(50));
    expect(mock.model.stats.byStatus['200']).toBe(60);
  });
});
