import { STRATEGY_LIMITERS } from '../src/cli/compare-command.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { loadTestCapacity } from '../src/sim/capacity.ts';
import { runSim } from '../src/sim/run-sim.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * The simulator's speed (a 10-minute peak: wall time and simulated requests per second)
 * and the goodput of each limiter strategy at the peak (2× overload) beside the account's
 * theoretical capacity (`loadTestCapacity`: at tier 3 the IPM binds, the GPU pool is far from it).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const STRATEGIES = {
  none: 'none' as const,
  fixed: STRATEGY_LIMITERS.fixed,
  adaptive: STRATEGY_LIMITERS.adaptive,
  // What `ratelab tune` recommends for this profile, tier and scenario (see README).
  tuned: { concurrency: { mode: 'fixed' as const, limit: 16 }, budgets: { safety: 1 }, queue: { maxWait: '5m' } },
};

export async function benchSim(): Promise<Record<string, unknown>> {
  for (let i = 0; i < 3; i++) await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 100 + i }); // warm-up: JIT
  const walls: number[] = [];
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1 + i });
    walls.push(r.wallMs);
    rates.push(r.upstreamRequests / (r.wallMs / 1000));
  }
  const rows: string[] = [];
  const account = loadTestCapacity(loadProfile('openai'), 3)!;
  const capacity = account.imagesPerMinute;
  const bounds = Object.entries(account.bounds)
    .map(([name, v]) => `${name.toUpperCase()} ${v.toFixed(0)}`)
    .join(', ');
  for (const [name, limiter] of Object.entries(STRATEGIES)) {
    const r = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1, limiter });
    const rl = r.summary.ratelab;
    rows.push(`| ${name} | ${rl.images} of ${rl.requests} | ${rl.goodputImagesPerMinute!.toFixed(1)} | ${((100 * rl.goodputImagesPerMinute!) / capacity).toFixed(1)} % | ${(100 * rl.provider429Rate!).toFixed(2)} % | ${(100 * rl.gatewayRefusalRate!).toFixed(2)} % |`);
  }
  const result = { peakWallMs: median(walls), simulatedRequestsPerSecond: median(rates) };
  recordResult(
    'sim',
    [
      '## Simulator speed and goodput by strategy (issue 7; targets: a 10-minute peak in < 100 ms, ≥ 1M simulated requests/s)',
      '',
      `Command: \`npm run bench -- sim\`: the peak scenario (tier 3, 740 arrivals over 10 simulated minutes) on the virtual clock, median of ${ROUNDS} seeds after three warm-up runs; then one run per strategy (seed 1).`,
      `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      `| measure | value |`,
      `|---|---|`,
      `| wall time of a simulated 10-minute peak (adaptive limiter) | ${result.peakWallMs.toFixed(0)} ms (fastest ${Math.min(...walls).toFixed(0)}, slowest ${Math.max(...walls).toFixed(0)}) |`,
      `| simulated provider requests per second of wall time | ${result.simulatedRequestsPerSecond.toFixed(0)} |`,
      '',
      `| strategy (sim) | images delivered | goodput (img/min) | of theoretical capacity (${capacity}/min) | provider 429s | gateway refusals |`,
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      "`none` here sends straight to the provider without retries; `ratelab compare` uses the openai SDK's retries. Goodput is images over the whole run, including the queue draining after the last arrival.",
      `Theoretical capacity (\`loadTestCapacity\`: free GPU slots ÷ mean service time ${(account.meanServiceMs / 1000).toFixed(1)} s, capped by the tier's limits, in images/min): ${bounds} → ${capacity} (${account.bound.toUpperCase()} binds).`,
    ].join('\n'),
  );
  return result;
}
