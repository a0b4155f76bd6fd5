import { DIURNAL_CURVE } from '../loadtests/scenarios.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { loadTestCapacity, loadTestLimits } from '../src/sim/capacity.ts';
import { runSim } from '../src/sim/run-sim.ts';
import { defaultCandidates, tune } from '../src/sim/tune.ts';
import { refinements } from '../src/sim/tune-refinements.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * A long horizon: a tier-5 account over a simulated day of diurnal demand (the `day`
 * scenario), the gateway's default limiter, several seeds; then the tuner over the same
 * day on a slice of its grid (one candidate per concurrency strategy, one seed, no
 * refinement), from which the default search's time follows by its number of simulations.
 * `npm run bench -- sim-day` (BENCH_ROUNDS, default 3).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TIER = 5;

export async function benchSimDay(): Promise<Record<string, unknown>> {
  const walls: number[] = [];
  let requests = 0;
  let arrivals = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await runSim({ scenario: 'day', profile: 'openai', tier: TIER, seed: 1 + i });
    walls.push(r.wallMs);
    requests = r.upstreamRequests;
    arrivals = r.summary.ratelab.requests;
    console.log(`day, seed ${1 + i}: ${(r.wallMs / 1000).toFixed(1)} s for ${r.upstreamRequests} provider requests`);
  }
  const grid = defaultCandidates();
  // The first candidate of each concurrency strategy (safety 0.85, maxWait 1m).
  const slice = grid.filter((c, i) => i % 12 === 0);
  const t0 = performance.now();
  await tune({ profile: 'openai', tier: TIER, scenario: 'day', max429Rate: 0.01, p95Ms: 360_000, seeds: [1], candidates: slice, refine: false });
  const tuneSliceMs = performance.now() - t0;
  const perSim = tuneSliceMs / slice.length;
  const steps = refinements({ ipm: loadTestLimits(loadProfile('openai'), TIER)?.ipm }).reduce((n, r) => n + r.values.length, 0);
  // `ratelab tune` defaults: the whole grid and its refinements, two seeds each.
  const defaultSims = (grid.length + steps) * 2;
  const capacity = loadTestCapacity(loadProfile('openai'), TIER)!.imagesPerMinute;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  recordResult(
    'sim-day',
    [
      '## A simulated day on a tier-5 account (issue 18: < 10 s; and the tuner over it)',
      '',
      `Command: \`npm run bench -- sim-day\`: \`runSim\` of the \`day\` scenario (24 h, demand ${Math.round(100 * Math.min(...DIURNAL_CURVE))}–${Math.round(100 * Math.max(...DIURNAL_CURVE))} % of the account's ${capacity} images/min, ${arrivals} arrivals) at tier ${TIER} with the gateway's default limiter, ${ROUNDS} seeds; then \`tune\` over the same day on ${slice.length} candidates (one per concurrency strategy), one seed, no refinement.`,
      `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| wall time of a simulated day, median (min–max) | ${s(median(walls))} (${s(Math.min(...walls))}–${s(Math.max(...walls))}) |`,
      `| provider requests simulated per wall second | ${Math.round(requests / (median(walls) / 1000))} |`,
      `| tuner over the day, ${slice.length} candidates × 1 seed | ${s(tuneSliceMs)} (${s(perSim)} per simulation) |`,
      `| \`ratelab tune --scenario day --tier ${TIER}\` with its defaults (${grid.length} grid points + ${steps} refinements, 2 seeds: ${defaultSims} simulations), from the per-simulation time | about ${Math.round((defaultSims * perSim) / 60_000)} min |`,
    ].join('\n'),
  );
  return { dayWallMs: median(walls), tuneSliceMs, perSimMs: perSim, defaultSims };
}
