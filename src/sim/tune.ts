import type { RequestMix } from '../../loadtests/mixes.ts';
import type { ScenarioName, ScenarioPlan } from '../../loadtests/scenarios.ts';
import { loadProfile } from '../../mock-server/profiles/index.ts';
import { loadTestLimits } from './capacity.ts';
import { parseLimiterConfig, type LimiterConfigInput } from '../limiter/config.ts';
import { refinements, type Refinement } from './tune-refinements.ts';
import { runSim, type SimResult } from './run-sim.ts';

/** One point of the search space, as a limiter config fragment. */
export interface Candidate {
  name: string;
  config: LimiterConfigInput;
}

export interface Figures {
  /** Images delivered (of the scenario's requests). */
  images: number;
  /** Images per minute over the run (scale 1). */
  goodput: number;
  /** ms, successful requests. */
  p95: number;
  /** The slowest class's P95 (ms) and its name: what `p95Ms` is held against (the run's P95 for a one-class mix). */
  worst: { p95: number; cls: string };
  /** Per class of a mix of more than one: P95 and P95 to the first image, ms (means over the seeds; null where a class had no image). */
  classes?: { class: string; p95: number | null; firstImageP95: number | null }[];
  provider429Rate: number;
  refusalRate: number;
  lost: number;
}

export interface Scored extends Candidate {
  figures: Figures;
  /** Meets the constraints (429 rate, P95). */
  feasible: boolean;
}

export interface TuneOptions {
  profile: string;
  tier: number;
  scenario: ScenarioName | ScenarioPlan;
  max429Rate: number;
  /** ms; the P95 of successful requests of every class (of the run, for a one-class mix) must stay at or under it. */
  p95Ms: number;
  seeds: number[];
  /** What the simulated iterations send; default the `single` mix. */
  mix?: RequestMix;
  candidates?: Candidate[];
  /**
   * After the grid, vary the settings it does not cover (concurrency bounds, burst, queue
   * size, backoff, retry budget, attempts) one at a time around its best point, keeping
   * each change that ranks better. Default true.
   */
  refine?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The default search space: concurrency (adaptive, or fixed at two levels), the share of the
 * account's limits the budgets use, and how long a request may wait in the queue.
 */
export function defaultCandidates(): Candidate[] {
  const out: Candidate[] = [];
  const concurrency = [
    { name: 'adaptive', value: { mode: 'adaptive' as const } },
    { name: 'fixed 16', value: { mode: 'fixed' as const, limit: 16 } },
    { name: 'fixed 64', value: { mode: 'fixed' as const, limit: 64 } },
  ];
  for (const c of concurrency) {
    for (const safety of [0.85, 0.9, 0.95, 1]) {
      for (const maxWait of ['1m', '2m', '5m']) {
        out.push({ name: `${c.name}, safety ${safety}, maxWait ${maxWait}`, config: { concurrency: c.value, budgets: { safety }, queue: { maxWait } } });
      }
    }
  }
  return out;
}

async function figuresOf(o: TuneOptions, c: Candidate): Promise<Figures> {
  const runs: SimResult[] = [];
  for (const seed of o.seeds) runs.push(await runSim({ scenario: o.scenario, profile: o.profile, tier: o.tier, seed, limiter: c.config, ...(o.mix ? { mix: o.mix } : {}) }));
  const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const rl = (r: (typeof runs)[number]) => r.summary.ratelab;
  const p95 = mean((r) => r.summary.metrics['http_req_duration{status:200}']?.values['p(95)'] ?? 0);
  // The seeds' slowest classes may differ: the one slowest on average over the seeds is named (a one-class run is its own).
  const meanOf = (xs: (number | null | undefined)[]): number | null => {
    const known = xs.filter((x): x is number => x !== null && x !== undefined);
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  };
  const classes = rl(runs[0]!).classes?.map((c) => {
    const of = runs.map((r) => rl(r).classes?.find((x) => x.class === c.class));
    return { class: c.class, p95: meanOf(of.map((x) => x?.p95Ms)), firstImageP95: meanOf(of.map((x) => x?.firstImageP95Ms)) };
  });
  const slowest = classes?.length ? classes.reduce((a, b) => ((b.p95 ?? 0) > (a.p95 ?? 0) ? b : a)) : undefined;
  return {
    worst: slowest ? { p95: slowest.p95 ?? 0, cls: slowest.class } : { p95, cls: rl(runs[0]!).mix },
    ...(classes?.length ? { classes } : {}),
    images: mean((r) => rl(r).images),
    goodput: mean((r) => rl(r).goodputImagesPerMinute),
    p95,
    provider429Rate: mean((r) => rl(r).provider429Rate),
    refusalRate: mean((r) => rl(r).gatewayRefusalRate),
    lost: mean((r) => rl(r).lostRequests),
  };
}

/** a is at least as good as b everywhere and better somewhere: more images and goodput, lower P95 and 429s. */
function dominates(a: Figures, b: Figures): boolean {
  const ge = a.images >= b.images && a.goodput >= b.goodput && a.p95 <= b.p95 && a.provider429Rate <= b.provider429Rate;
  const gt = a.images > b.images || a.goodput > b.goodput || a.p95 < b.p95 || a.provider429Rate < b.provider429Rate;
  return ge && gt;
}

const sameFigures = (a: Figures, b: Figures): boolean =>
  a.images === b.images && a.goodput === b.goodput && a.p95 === b.p95 && a.provider429Rate === b.provider429Rate && a.refusalRate === b.refusalRate;

/**
 * The candidates no other one dominates. Of candidates with identical figures (a setting that
 * made no difference, such as retry settings when nothing is retried) only the first is kept.
 */
export function paretoFront(scored: Scored[]): Scored[] {
  return scored.filter((s, i) => !scored.some((o, j) => (j < i && sameFigures(o.figures, s.figures)) || (o !== s && dominates(o.figures, s.figures))));
}

/** Feasible first, then more images, more goodput, lower P95. */
const rank = (a: Scored, b: Scored): number =>
  Number(b.feasible) - Number(a.feasible) || b.figures.images - a.figures.images || b.figures.goodput - a.figures.goodput || a.figures.p95 - b.figures.p95;

/**
 * Runs every candidate on the simulator over the seeds, then refines the best one setting by
 * setting (coordinate descent, one pass); returns all scores, the Pareto front, and the
 * recommendation: among the candidates within the limits, the one that delivers the most
 * images (a refused request is an image not delivered), then the most goodput per minute,
 * then the lowest P95. The P95 limit is what trades waiting for refusing.
 */
export async function tune(o: TuneOptions): Promise<{ scored: Scored[]; front: Scored[]; best: Scored | undefined; considered: number }> {
  const grid = o.candidates ?? defaultCandidates();
  const steps = o.refine === false ? [] : refinements({ ipm: loadTestLimits(loadProfile(o.profile), o.tier)?.ipm });
  const total = grid.length + steps.reduce((n, r) => n + r.values.length, 0);
  const scored: Scored[] = [];
  // A refinement can land on a config already scored (a value equal to the default): simulated and counted once.
  const seen = new Map<string, Scored>();
  let done = 0;
  const score = async (c: Candidate | undefined): Promise<Scored | undefined> => {
    if (c === undefined) return void o.onProgress?.(++done, total);
    const key = JSON.stringify(parseLimiterConfig(c.config));
    const known = seen.get(key);
    if (known) {
      o.onProgress?.(++done, total);
      return known;
    }
    const figures = await figuresOf(o, c);
    const s = { ...c, figures, feasible: figures.provider429Rate <= o.max429Rate && figures.worst.p95 <= o.p95Ms && figures.lost === 0 };
    scored.push(s);
    seen.set(key, s);
    o.onProgress?.(++done, total);
    return s;
  };
  for (const c of grid) await score(c);
  let incumbent = [...scored].sort(rank)[0];
  for (const step of steps) if (incumbent) incumbent = await refine(incumbent, step, score);
  const best = scored.filter((s) => s.feasible).sort(rank)[0];
  return { scored, front: paretoFront(scored).sort(rank), best, considered: total };
}

/** The incumbent or the best of its variants along one setting (`score(undefined)` counts a value that does not apply as done). */
async function refine(incumbent: Scored, step: Refinement, score: (c: Candidate | undefined) => Promise<Scored | undefined>): Promise<Scored> {
  let best = incumbent;
  for (const v of step.values) {
    const config = v.apply(incumbent.config);
    const s = await score(config && { name: `${incumbent.name}, ${v.label}`, config });
    if (s && rank(s, best) < 0) best = s;
  }
  return best;
}
