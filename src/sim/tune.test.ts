import { describe, expect, it } from 'vitest';
import { MIXES } from '../../loadtests/mixes.ts';
import { refinements } from './tune-refinements.ts';
import { paretoFront, tune, type Candidate, type Figures, type Scored } from './tune.ts';

const grid: Candidate[] = [
  { name: 'fixed 16, safety 1, maxWait 5m', config: { concurrency: { mode: 'fixed', limit: 16 }, budgets: { safety: 1 }, queue: { maxWait: '5m' } } },
  { name: 'adaptive, safety 0.85, maxWait 1m', config: { concurrency: { mode: 'adaptive' }, budgets: { safety: 0.85 }, queue: { maxWait: '1m' } } },
];

const point = (name: string, f: Partial<Figures>): Scored => ({
  name,
  config: {},
  feasible: true,
  figures: { images: 100, goodput: 10, p95: 1000, worst: { p95: 1000, cls: 'single' }, provider429Rate: 0, refusalRate: 0, lost: 0, ...f },
});

describe('tune', () => {
  it('the Pareto front drops dominated points and keeps one of identical ones', () => {
    const front = paretoFront([
      point('a', {}),
      point('a, a setting that changed nothing', {}),
      point('slower', { p95: 2000 }),
      point('fewer images, faster', { images: 90, p95: 500 }),
      point('more 429s', { provider429Rate: 0.1 }),
    ]);
    expect(front.map((s) => s.name)).toEqual(['a', 'fewer images, faster']);
  });

  it('simulates a config once however often the search reaches it, and says how many it considered', async () => {
    const same: Candidate = { name: 'the first, written out', config: { ...grid[0]!.config, queue: { maxWait: 300_000, maxSize: 10_000 } } };
    const progress: number[] = [];
    const { scored, considered } = await tune({ profile: 'openai', tier: 3, scenario: 'steady', max429Rate: 0.01, p95Ms: 600_000, seeds: [1], candidates: [grid[0]!, same], refine: false, onProgress: (done) => progress.push(done) });
    expect(scored.map((s) => s.name)).toEqual([grid[0]!.name]);
    expect(considered).toBe(2);
    expect(progress).toEqual([1, 2]);
  });

  it('refinements cover what the grid does not, sized by the account', () => {
    const steps = refinements({ ipm: 50 });
    expect(steps.map((s) => s.setting)).toEqual(['concurrency bounds', 'burst', 'queue size', 'backoff', 'retry budget', 'attempts']);
    const bounds = steps[0]!.values;
    const fixed = grid[0]!.config;
    const adaptive = grid[1]!.config;
    expect(bounds.map((v) => v.apply(fixed)).filter(Boolean).map((c) => c!.concurrency)).toEqual([8, 24, 32].map((limit) => ({ mode: 'fixed', limit })));
    expect(bounds.map((v) => v.apply(adaptive)).filter(Boolean).map((c) => c!.concurrency!.max)).toEqual([16, 32, 64]);
    // Burst in images at the config's safety share: 0.25 × 1 × 50.
    expect(steps[1]!.values[1]!.apply(fixed)!.budgets).toEqual({ safety: 1, ipm: { limit: 'auto', burst: 13 } });
    expect(steps[2]!.values.map((v) => v.apply(fixed)!.queue)).toEqual([50, 100, 200].map((maxSize) => ({ maxWait: '5m', maxSize })));
    // Without a known IPM, nothing is sized from it.
    expect(refinements({ ipm: undefined }).map((s) => s.setting)).toEqual(['concurrency bounds', 'backoff', 'retry budget', 'attempts']);
  });

  it('refines the best grid point one setting at a time and never recommends worse than the grid', { timeout: 60_000 }, async () => {
    const progress: number[] = [];
    const o = { profile: 'openai', tier: 3, scenario: 'peak' as const, max429Rate: 0.01, p95Ms: 360_000, seeds: [1] };
    const { scored, best } = await tune({ ...o, candidates: grid, onProgress: (done, total) => progress.push(done / total) });
    // 2 grid points, then 3 of the 6 bound values (the incumbent is fixed), 3 bursts, 3 sizes, 3 backoffs, 3 budgets, 2 attempts.
    expect(scored).toHaveLength(2 + 3 + 3 + 3 + 3 + 3 + 2);
    expect(progress.at(-1)).toBe(1);
    const gridOnly = await tune({ ...o, candidates: grid, refine: false });
    expect(gridOnly.scored).toHaveLength(2);
    expect(best!.feasible).toBe(true);
    const better = (a: Scored, b: Scored) => a.figures.images > b.figures.images || (a.figures.images === b.figures.images && a.figures.goodput >= b.figures.goodput);
    expect(better(best!, gridOnly.best!)).toBe(true);
    // Each refinement extends the incumbent's name with the one setting it changed.
    const refined = scored.slice(2);
    expect(refined.every((s) => s.name.startsWith(grid[0]!.name))).toBe(true);
    for (const key of ['burst', 'maxSize', 'baseDelay', 'budgetRatio', 'maxAttempts']) expect(refined.some((s) => JSON.stringify(s.config).includes(`"${key}"`))).toBe(true);
  });

  it('for a mix, holds --p95 against the slowest class and reports each class, over the seeds', { timeout: 60_000 }, async () => {
    const o = { profile: 'openai', tier: 5, scenario: 'steady' as const, max429Rate: 0.01, seeds: [1, 2], mix: MIXES.default!, candidates: [grid[1]!], refine: false };
    const { scored } = await tune({ ...o, p95Ms: 3_600_000 });
    const f = scored[0]!.figures;
    expect(f.classes!.map((c) => c.class)).toEqual(MIXES.default!.classes.map((c) => c.name));
    const slowest = f.classes!.reduce((a, b) => (b.p95! > a.p95! ? b : a));
    expect(f.worst).toEqual({ p95: slowest.p95, cls: slowest.class });
    // The slowest class is slower than the run's P95 (most requests are quicker classes).
    expect(f.worst.p95).toBeGreaterThan(f.p95);
    // A limit between the two: the run's P95 would pass, the slowest class does not.
    const between = await tune({ ...o, p95Ms: (f.p95 + f.worst.p95) / 2 });
    expect(between.scored[0]!.feasible).toBe(false);
    // A streamed class's first image comes before its whole answer.
    const preview = f.classes!.find((c) => c.class === 'gen-preview')!;
    expect(preview.firstImageP95!).toBeLessThan(preview.p95!);
  });
});
