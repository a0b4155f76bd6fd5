import { createHash } from 'node:crypto';
import { STRATEGY_LIMITERS } from '../src/cli/compare-command.ts';
import type { LimiterConfigInput } from '../src/limiter/config.ts';
import { runSim, type SimOptions, type SimResult } from '../src/sim/run-sim.ts';
import { checkoutBaseline } from './baseline.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * The simulator's cost before and after a change, side by side in one process: `runSim`
 * of `BASELINE` (a git revision, default HEAD~1, in a temporary worktree) against the
 * working tree's, on the default peak (tier 3, the gateway's default limiter) and with the
 * `fixed` strategy (16 at a time, no header sync: more provider 429s). Each round runs
 * `SEEDS` seeded simulations per side and strategy and reads the process's CPU time
 * around them; sides alternate which goes first. Every seed's summary is hashed on both
 * sides: a change that claims to be only faster must leave them byte-identical (on every
 * field the baseline wrote; fields it adds are named).
 * `npm run bench -- sim-ab` (BASELINE=<rev>, BENCH_ROUNDS, BENCH_SEEDS).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 8);
const STRATEGIES: [string, LimiterConfigInput | undefined][] = [
  ['default', undefined],
  ['fixed', STRATEGY_LIMITERS.fixed],
];

type Run = (o: SimOptions) => Promise<SimResult>;

const hash = (summary: unknown): string => createHash('sha256').update(JSON.stringify(summary)).digest('hex').slice(0, 8);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * `value` with only the object keys `like` has, in `value`'s order: a change that adds a field
 * (a new figure, a new metric) is compared on everything the baseline wrote, and the added
 * keys are named rather than failing the comparison.
 */
function onFieldsOf(value: Json, like: Json, path: string, added: Set<string>): Json {
  if (Array.isArray(value) && Array.isArray(like)) return value.map((v, i) => onFieldsOf(v, like[i] ?? null, `${path}[]`, added));
  if (value && like && typeof value === 'object' && typeof like === 'object' && !Array.isArray(value) && !Array.isArray(like)) {
    const out: { [key: string]: Json } = {};
    for (const [key, v] of Object.entries(value)) {
      if (key in like) out[key] = onFieldsOf(v, like[key]!, `${path}.${key}`, added);
      else added.add(`${path}.${key}`.slice(1));
    }
    return out;
  }
  return value;
}

interface Measured {
  requestsPerCpuSecond: number;
  summaries: Json[];
}

async function measure(run: Run, limiter: LimiterConfigInput | undefined): Promise<Measured> {
  const results: SimResult[] = [];
  const cpu0 = process.cpuUsage();
  for (let seed = 1; seed <= SEEDS; seed++) results.push(await run({ scenario: 'peak', profile: 'openai', tier: 3, seed, ...(limiter ? { limiter } : {}) }));
  const cpu = process.cpuUsage(cpu0);
  const requests = results.reduce((sum, r) => sum + r.upstreamRequests, 0);
  // Hashed outside the measured time: the summaries are not the simulator's work.
  return { requestsPerCpuSecond: requests / ((cpu.user + cpu.system) / 1e6), summaries: results.map((r) => r.summary as unknown as Json) };
}

export async function benchSimAb(): Promise<Record<string, { before: number[]; after: number[] }>> {
  const rev = process.env.BASELINE ?? 'HEAD~1';
  const baseline = checkoutBaseline(rev);
  try {
    const before = (await baseline.load<{ runSim: Run }>('src/sim/run-sim.ts')).runSim;
    const sides: ['before' | 'after', Run][] = [
      ['before', before],
      ['after', runSim],
    ];
    const samples: Record<string, { before: number[]; after: number[] }> = {};
    const identical: Record<string, boolean> = {};
    const added = new Set<string>();
    for (const [name, limiter] of STRATEGIES) {
      // Warm-up (JIT), discarded; it also compares the two sides' summaries seed by seed.
      // No gc() between sides here (as limiter-ab has): a forced full collection flushed
      // the simulator's compiled code and halved the next round's rate.
      await measure(before, limiter);
      await measure(runSim, limiter);
      const [b, a] = [await measure(before, limiter), await measure(runSim, limiter)];
      const bh = b.summaries.map(hash);
      const ah = a.summaries.map((summary, i) => hash(onFieldsOf(summary, b.summaries[i]!, '', added)));
      identical[name] = bh.join() === ah.join();
      console.log(`${name}: summaries ${identical[name] ? 'identical' : 'DIFFER'} on the baseline's fields (${bh.join(' ')} | ${ah.join(' ')})`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, limiter] of STRATEGIES) {
        const order = round % 2 ? [...sides].reverse() : sides;
        for (const [side, run] of order) {
          const m = await measure(run, limiter);
          ((samples[name] ??= { before: [], after: [] })[side]).push(m.requestsPerCpuSecond);
          console.log(`round ${round + 1} ${name} ${side}: ${m.requestsPerCpuSecond.toFixed(0)} provider requests per CPU-second`);
        }
      }
    }
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    const rows = STRATEGIES.map(([name]) => {
      const { before: b, after: a } = samples[name]!;
      const ratios = a.map((x, i) => x / b[i]!);
      return `| ${name} | ${k(median(b))} (${k(Math.min(...b))}–${k(Math.max(...b))}) | ${k(median(a))} (${k(Math.min(...a))}–${k(Math.max(...a))}) | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${identical[name] ? 'yes' : 'NO'} |`;
    });
    recordResult(
      'sim-ab',
      [
        '## Simulator cost before and after a change (issue 18: ≥ 3× simulated requests per CPU-second)',
        '',
        `Command: \`BASELINE=${rev} npm run bench -- sim-ab\`: \`runSim\` of ${baseline.sha} (in a temporary git worktree) against the working tree's, in one process: the default peak (tier 3, 10 simulated minutes) with the gateway's default limiter and with the \`fixed\` strategy, ${SEEDS} seeds per side and strategy per round, ${ROUNDS} interleaved rounds after a discarded warm-up; the process's CPU time (user + system) around each side's seeds. Provider requests are every attempt the mock answered.`,
        `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
        '',
        '| strategy | before: provider requests per CPU-second, median (min–max) | after | after ÷ before, per round: median (min–max) | summaries byte-identical on the baseline\'s fields (every seed) |',
        '|---|---|---|---|---|',
        ...rows,
        ...(added.size ? ['', `Fields the working tree adds, left out of the comparison: ${[...added].map((f) => `\`${f}\``).join(', ')}.`] : []),
      ].join('\n'),
    );
    return samples;
  } finally {
    baseline.cleanup();
  }
}
