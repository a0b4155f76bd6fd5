import { fork } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_LOADTEST_MODEL, imageRequestBody } from '../loadtests/lib/answers.ts';
import { realClock } from '../src/core/clock.ts';
import { runLoad } from '../src/loadgen/engine.ts';
import { imageIteration } from '../src/loadgen/image-iteration.ts';
import { machine, recordResult } from './results.ts';

/**
 * The embedded engine's highest arrival rate held within 1 % (every iteration sent on
 * schedule, none dropped) beside autocannon's maximum (closed loop, as fast as it can),
 * both against the same zero-latency server in another process, in one run.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = 64;
const RATES = [1000, 2000, 4000, 6000, 8000, 10_000, 12_000, 14_000, 17_000, 20_000, 24_000, 28_000, 32_000, 40_000];

async function engineHolds(url: string, rate: number): Promise<{ held: boolean; achieved: number; dropped: number }> {
  const result = await runLoad({
    options: { scenarios: { hold: { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: `${SECONDS}s`, preAllocatedVUs: 200, maxVUs: 1000, gracefulStop: '5s' } }, thresholds: {} },
    iterations: (metrics) => ({ default: imageIteration(metrics, { baseURL: url, apiKey: 'sk-bench', model: DEFAULT_LOADTEST_MODEL, clock: realClock, timeoutMs: 10_000, connections: CONNECTIONS * 4 }).fn }),
  });
  const reqs = result.metrics.get('http_reqs')!.sum;
  const ok = result.metrics.get('http_req_failed')!.passes === 0;
  const dropped = result.metrics.get('dropped_iterations')!.sum;
  const achieved = reqs / SECONDS;
  return { held: ok && Math.abs(achieved - rate) / rate <= 0.01 && dropped <= rate * SECONDS * 0.01, achieved, dropped };
}

export async function benchEngineRate(): Promise<Record<string, number>> {
  const child = fork(join(import.meta.dirname, '..', 'test', 'support', 'zero-server.ts'), { execArgv: ['--import', 'tsx'] });
  const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', resolve as never));
  try {
    const ac = await autocannon({ url: `${url}/v1/images/generations`, method: 'POST', headers: { 'content-type': 'application/json' }, body: imageRequestBody(1, 1), connections: CONNECTIONS, duration: SECONDS });
    const autocannonMax = ac.requests.average;
    let bestHeld = 0;
    const tried: string[] = [];
    for (const rate of RATES) {
      const r = await engineHolds(url, rate);
      tried.push(`${rate}: ${r.held ? 'held' : 'not held'} (${r.achieved.toFixed(0)}/s, ${r.dropped} dropped)`);
      console.log(`engine at ${rate}/s: ${tried.at(-1)}`);
      if (!r.held) break;
      bestHeld = rate;
    }
    const result = { autocannonMax, engineHeld: bestHeld, ratio: bestHeld / autocannonMax };
    recordResult(
      'engine-rate',
      [
        '## Embedded engine: highest arrival rate held within 1 % vs autocannon (issue 5)',
        '',
        `Command: \`npm run bench -- engine-rate\`: a zero-latency server in a child process; autocannon closed-loop with ${CONNECTIONS} connections for ${SECONDS} s, then the engine's constant-arrival-rate at rising rates for ${SECONDS} s each until a rate is not held (sent within 1 % of the schedule, ≤ 1 % dropped, no failures). Both record every response (autocannon: HDR of latencies; engine: k6's HTTP metrics and ratelab's).`,
        `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
        '',
        '| generator | req/s | engine ÷ autocannon |',
        '|---|---|---|',
        `| autocannon (max, closed loop) | ${autocannonMax.toFixed(0)} | |`,
        `| ratelab engine (highest rate held within 1 %, open loop) | ${bestHeld} | ${result.ratio.toFixed(2)} |`,
        '',
        `Rates tried: ${tried.join('; ')}.`,
      ].join('\n'),
    );
    return result;
  } finally {
    child.kill();
  }
}
