import { createLimiter } from '../src/limiter/limiter.ts';
import { checkoutBaseline } from './baseline.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * The limiter's hot path before and after a change, side by side in one process: the
 * limiter of `BASELINE` (a git revision, default HEAD~1) checked out into a temporary
 * worktree, against the working tree's, with the throughput bench's workload (no-op tasks,
 * every feature on, concurrency 64, batches of `depth`), rounds interleaved so both see
 * the same machine noise. `npm run bench -- limiter-ab` (BASELINE=<rev>).
 */
const TOTAL = Number(process.env.BENCH_TASKS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DEPTHS = [1_000, 10_000, 100_000].filter((d) => d <= TOTAL);
const CONCURRENCY = 64;

type Make = typeof createLimiter;

/** `createLimiter` as it was at `rev`. */
async function baselineLimiter(rev: string): Promise<{ make: Make; sha: string; cleanup: () => void }> {
  const baseline = checkoutBaseline(rev);
  const mod = await baseline.load<{ createLimiter: Make }>('src/limiter/limiter.ts');
  return { make: mod.createLimiter, sha: baseline.sha, cleanup: baseline.cleanup };
}

/** Present under `--expose-gc` (the bench script passes it): each side starts on a collected heap. */
const collect = (globalThis as { gc?: () => void }).gc;

async function measure(make: Make, depth: number): Promise<number> {
  collect?.();
  const limiter = make({
    concurrency: { mode: 'fixed', limit: CONCURRENCY },
    budgets: { rpm: { limit: 1e12 }, ipm: { limit: 1e12 }, tpm: { limit: 1e15 } },
    queue: { maxSize: depth, maxWait: '1h' },
  });
  const cost = { rpm: 1, ipm: 1, tpm: 1000 };
  const noop = async (i: number): Promise<number> => i;
  const t0 = performance.now();
  for (let done = 0; done < TOTAL; done += depth) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < Math.min(depth, TOTAL - done); i++) batch.push(limiter.schedule(() => noop(i), { priority: i & 3, cost }));
    await Promise.all(batch);
  }
  const rate = TOTAL / ((performance.now() - t0) / 1000);
  limiter.close();
  return rate;
}

export async function benchLimiterAb(): Promise<Record<number, { before: number[]; after: number[] }>> {
  const rev = process.env.BASELINE ?? 'HEAD~1';
  const baseline = await baselineLimiter(rev);
  try {
    const sides: [string, Make][] = [
      ['before', baseline.make],
      ['after', createLimiter],
    ];
    const samples: Record<number, { before: number[]; after: number[] }> = {};
    for (const depth of DEPTHS) for (const [, make] of sides) await measure(make, depth); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) {
      for (const depth of DEPTHS) {
        // Alternate which side goes first, so neither always runs on a fresher heap.
        const order = round % 2 ? [...sides].reverse() : sides;
        for (const [side, make] of order) {
          const rate = await measure(make, depth);
          ((samples[depth] ??= { before: [], after: [] })[side as 'before' | 'after']).push(rate);
          console.log(`round ${round + 1} depth ${depth} ${side}: ${rate.toFixed(0)} tasks/s`);
        }
      }
    }
    const k = (x: number) => `${Math.round(x / 1000)}k`;
    const rows = DEPTHS.map((d) => {
      const { before, after } = samples[d]!;
      const ratios = after.map((a, i) => a / before[i]!);
      return `| ${d} | ${k(median(before))} (${k(Math.min(...before))}–${k(Math.max(...before))}) | ${k(median(after))} (${k(Math.min(...after))}–${k(Math.max(...after))}) | ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}) |`;
    });
    recordResult(
      'limiter-ab',
      [
        '## Limiter hot path before and after a change (issue 16: within ±5 %)',
        '',
        `Command: \`BASELINE=${rev} npm run bench -- limiter-ab\`: the limiter of ${baseline.sha} (in a temporary git worktree) against the working tree's, in one process, ${TOTAL} no-op tasks per depth, everything on, concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds after a discarded warm-up (sides alternate which goes first).`,
        `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
        '',
        '| depth | before: tasks/s median (min–max) | after | after ÷ before, per round: median (min–max) |',
        '|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    return samples;
  } finally {
    baseline.cleanup();
  }
}
