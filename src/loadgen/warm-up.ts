import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'undici';
import { GATEWAY_ERROR_TYPE } from '../../loadtests/lib/answers.ts';
import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { realClock } from '../core/clock.ts';
import { connectionPool, preconnect } from './connection-pool.ts';
import { runLoad } from './engine.ts';
import { imageIteration } from './image-iteration.ts';
import { Metrics } from './metrics.ts';
import { peakArrivalsPerSecond, startingVus } from './plan-rate.ts';

export interface WarmUpOptions {
  /** The run's options: their peak arrival rate decides how hard the engine is warmed, their starting VUs how many connections are opened. */
  options: LoadOptions;
  /** The run's connection pool: connections to `target` are opened in it. */
  pool: Agent;
  /** The run's target origin (the gateway), e.g. http://127.0.0.1:4020. */
  target: string;
  /** The pool's connection limit: no more are opened. */
  connections: number;
  /** The model the warm-up's requests name (they never reach the target). */
  model: string;
}

export interface WarmUpResult {
  /** Iterations run against the in-process sink (0 below WARM_FROM_PER_S). */
  iterations: number;
  /** Connections opened to the target. */
  connections: number;
  durationMs: number;
}

/** Below this peak rate (per real second) a cold engine keeps up; above it, it is warmed. */
export const WARM_FROM_PER_S = 100;
/** The warm-up's length: a ramp from 0 to the run's peak rate (at most WARM_MAX_PER_S). */
export const WARM_MS = 1000;
/** Measured: a ramp to 3000–4000/s over 1 s left no drops at 4000/s; a harder one adds only wall time. */
export const WARM_MAX_PER_S = 4000;

/**
 * Readies the embedded engine before a run's clock starts, so it holds its rate from the
 * first second. A fresh process interprets before it compiles: the engine, undici's request
 * path and the metrics each run their first thousands of calls slowly, and a cold pool opens
 * its connections while arrivals are due, so at 4 000/s a cold engine dropped 4–16 % of its
 * first 2 s's arrivals (k6 drops none). So, first, the same iteration code the run uses runs
 * at a rising rate against a zero-latency sink in this process (answers and refusals shaped
 * like the gateway's, into metrics thrown away: nothing reaches the target); then one
 * connection per starting VU is opened to the target with GET /healthz. A run whose peak
 * stays under WARM_FROM_PER_S only opens its connections.
 */
export async function warmUp(o: WarmUpOptions): Promise<WarmUpResult> {
  const started = realClock.now();
  const peak = peakArrivalsPerSecond(o.options);
  const iterations = peak >= WARM_FROM_PER_S ? await warmAgainstSink(Math.min(peak, WARM_MAX_PER_S), o.model) : 0;
  const connections = Math.min(startingVus(o.options), o.connections);
  await preconnect(o.pool, o.target, connections);
  return { iterations, connections, durationMs: realClock.now() - started };
}

/** A refusal in every few answers, so the error paths (JSON parse, refusal tags) are warm too. */
const REFUSAL_EVERY = 8;
const IMAGE = JSON.stringify({ created: 1, data: [{ b64_json: 'AA==' }], usage: { input_tokens: 8, output_tokens: 272 } });
const REFUSAL = JSON.stringify({ error: { message: 'warm-up', type: GATEWAY_ERROR_TYPE, code: 'queue_full', param: null } });

function sink(): Promise<{ server: Server; url: string }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const refuse = ++n % REFUSAL_EVERY === 0;
      res.writeHead(refuse ? 429 : 200, { 'content-type': 'application/json', 'x-ratelab-queue-ms': '0', 'x-ratelab-attempts': '1' }).end(refuse ? REFUSAL : IMAGE);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

async function warmAgainstSink(peakPerS: number, model: string): Promise<number> {
  const { server, url } = await sink();
  const vus = 64;
  const pool = connectionPool({ connections: vus, timeoutMs: 10_000 });
  const it = imageIteration(new Metrics(), { baseURL: url, apiKey: 'sk-warm-up', model, clock: realClock, timeoutMs: 10_000, connections: vus, dispatcher: pool });
  try {
    const run = await runLoad({
      options: {
        scenarios: { 'warm-up': { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', stages: [{ duration: `${WARM_MS}ms`, target: Math.round(peakPerS) }], preAllocatedVUs: vus, maxVUs: vus, gracefulStop: '1s' } },
        thresholds: {},
      },
      iterations: () => ({ default: it.fn }),
    });
    return run.metrics.get('iterations')?.sum ?? 0;
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One line for the console: what ran before the clock, in wall time (the warm-up is never time-scaled). */
export function describeWarmUp(w: WarmUpResult): string {
  const sink = w.iterations > 0 ? `${w.iterations} iterations against an in-process sink, ` : '';
  return `engine warmed before the run's clock: ${sink}${w.connections} connections opened to the target (${(w.durationMs / 1000).toFixed(1)} s wall, not part of the run)`;
}
