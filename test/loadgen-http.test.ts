import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen } from '../src/core/http-listen.ts';
import { runLoad } from '../src/loadgen/engine.ts';
import { imageIteration } from '../src/loadgen/image-iteration.ts';
import { realClock } from '../src/core/clock.ts';

describe('embedded engine over real HTTP', () => {
  it('holds 1000 requests/s within 1 % against a zero-latency server', { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ created: 1, data: [{ b64_json: 'AA==' }] });
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'x-ratelab-queue-ms': '0', 'x-ratelab-attempts': '1' }).end(body));
    });
    const url = await listen(server, 0, '127.0.0.1');
    const sends: number[] = [];
    try {
      const result = await runLoad({
        options: { scenarios: { hold: { executor: 'constant-arrival-rate', rate: 1000, timeUnit: '1s', duration: '3s', preAllocatedVUs: 50, maxVUs: 200 } }, thresholds: { http_req_failed: ['rate==0'] } },
        iterations: (metrics) => {
          const it = imageIteration(metrics, { baseURL: url, apiKey: 'sk-x', clock: realClock, timeoutMs: 5_000, connections: 200 });
          return {
            default: async (ctx) => {
              sends.push(performance.now());
              await it.fn(ctx);
            },
          };
        },
      });
      const reqs = result.metrics.get('http_reqs')!.sum;
      const dropped = result.metrics.get('dropped_iterations')!.sum;
      const span = (sends.at(-1)! - sends[0]!) / 1000;
      const held = (sends.length - 1) / span;
      console.log(`held ${held.toFixed(1)} req/s over ${span.toFixed(3)} s; ${reqs} requests, ${dropped} dropped`);
      expect(dropped).toBe(0);
      expect(reqs).toBe(3000);
      expect(Math.abs(held - 1000) / 1000).toBeLessThan(0.01);
      expect(result.thresholds[0]!.failed).toBe(false);
    } finally {
      server.close();
    }
  });
});
