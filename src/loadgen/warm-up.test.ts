import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { realClock } from '../core/clock.ts';
import { connectionPool } from './connection-pool.ts';
import { runLoad } from './engine.ts';
import { imageIteration } from './image-iteration.ts';
import { describeWarmUp, warmUp, WARM_FROM_PER_S } from './warm-up.ts';

/** A target that counts what reaches it: requests by method and path, and the sockets they came on. */
async function countingTarget(): Promise<{ url: string; seen: string[]; sockets: () => number; server: Server }> {
  const seen: string[] = [];
  let sockets = 0;
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ created: 1, data: [{ b64_json: 'AA==' }] })));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => sockets++);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, sockets: () => sockets, server };
}

const arrivals = (perSecond: number, preAllocatedVUs: number): LoadOptions => ({
  scenarios: { run: { executor: 'constant-arrival-rate', rate: perSecond, timeUnit: '1s', duration: '1s', preAllocatedVUs, maxVUs: preAllocatedVUs * 2 } },
  thresholds: {},
});

let target: Awaited<ReturnType<typeof countingTarget>> | undefined;
afterEach(async () => {
  target?.server.closeAllConnections();
  await new Promise((ok) => target?.server.close(ok) ?? ok(undefined));
  target = undefined;
});

describe('warmUp', () => {
  it('runs the iteration against its own sink, so only GET /healthz reaches the target, one connection per starting VU', { timeout: 20_000 }, async () => {
    target = await countingTarget();
    const pool = connectionPool({ connections: 100, timeoutMs: 5_000 });
    try {
      const w = await warmUp({ options: arrivals(500, 30), pool, target: target.url, connections: 100, model: 'gpt-image-1.5' });
      // A ramp from 0 to 500/s over 1 s: 250 arrivals, each an iteration or (on a busy machine) a drop.
      expect(w.iterations).toBeGreaterThan(0);
      expect(w.iterations).toBeLessThanOrEqual(250);
      expect(w.connections).toBe(30);
      expect(target.seen).toEqual(Array(30).fill('GET /healthz'));
      expect(target.sockets()).toBe(30);

      // The run that follows finds its connections open: 30 VUs' first requests, all at once, open none.
      const run = await runLoad({
        options: { scenarios: { reuse: { executor: 'shared-iterations', vus: 30, iterations: 30 } }, thresholds: {} },
        iterations: (metrics) => ({ default: imageIteration(metrics, { baseURL: target!.url, apiKey: 'sk-x', model: 'gpt-image-1.5', clock: realClock, timeoutMs: 5_000, connections: 100, dispatcher: pool }).fn }),
      });
      expect(run.metrics.get('http_reqs')!.sum).toBe(30);
      expect(target.seen.filter((r) => r === 'POST /v1/images/generations')).toHaveLength(30);
      expect(target.sockets()).toBe(30);
    } finally {
      await pool.close();
    }
  });

  it(`only opens connections for a run whose peak stays under ${WARM_FROM_PER_S}/s, and never more than the pool holds`, async () => {
    target = await countingTarget();
    const pool = connectionPool({ connections: 8, timeoutMs: 5_000 });
    try {
      const w = await warmUp({ options: arrivals(WARM_FROM_PER_S - 1, 20), pool, target: target.url, connections: 8, model: 'gpt-image-1.5' });
      expect(w).toMatchObject({ iterations: 0, connections: 8 });
      expect(target.seen).toEqual(Array(8).fill('GET /healthz'));
    } finally {
      await pool.close();
    }
  });

  it('leaves an unreachable target for the run to report', async () => {
    const pool = connectionPool({ connections: 4, timeoutMs: 1_000 });
    try {
      const w = await warmUp({ options: arrivals(10, 4), pool, target: 'http://127.0.0.1:1', connections: 4, model: 'gpt-image-1.5' });
      expect(w).toMatchObject({ iterations: 0, connections: 4 });
    } finally {
      await pool.close();
    }
  });
});

describe('describeWarmUp', () => {
  it('says what ran before the clock, in wall time', () => {
    expect(describeWarmUp({ iterations: 1941, connections: 200, durationMs: 1094 })).toBe(
      "engine warmed before the run's clock: 1941 iterations against an in-process sink, 200 connections opened to the target (1.1 s wall, not part of the run)",
    );
  });
});
