import { classFields, type RequestMix } from '../../loadtests/mixes.ts';
import { customScenario, DIURNAL_CURVE, scenario, type ScenarioPlan } from '../../loadtests/scenarios.ts';
import { catalogueOf, loadProfile } from '../../mock-server/profiles/index.ts';
import { parseLimiterConfig, type LimiterConfigInput } from '../limiter/config.ts';
import { classEditInputs } from '../loadgen/class-request.ts';
import { costInputOf } from '../openai/cost.ts';
import { priceOf } from '../openai/prices.ts';
import { validateImageFields } from '../openai/request.ts';
import { loadTestLimits, profileTiers } from './capacity.ts';
import { runSim } from './run-sim.ts';
import { defaultCandidates } from './tune.ts';
import { worstClass } from './worst-class.ts';

export interface PlanTargets {
  /** Every class's P95 (successful requests), production ms. */
  p95Ms: number;
  /** Every class's P95 time to its first image (a stream's first partial), production ms; absent: not a target. */
  firstImageP95Ms?: number;
  /** Provider 429s that reach clients. */
  max429Rate: number;
  /** The gateway's own refusals (queue full, deadline): demand the plan does not serve. */
  maxRefusalRate: number;
}

export interface PlanOptions {
  profile: string;
  mix: RequestMix;
  /** Images per minute the app asks for (production time); with `day`, the day's mean. */
  demand: number;
  /** How long the demand is held (production ms). Default 30 min; with `day`, 24 h. */
  durationMs?: number;
  /** The demand follows the `day` scenario's diurnal curve (its mean = `demand`, its evening peak 1.8× that). */
  day?: boolean;
  targets: PlanTargets;
  /** Tiers tried, lowest first. Default: every tier of the profile that may use its default model. */
  tiers?: number[];
  /** Most accounts (upstreams) tried per tier. Default 8. */
  maxAccounts?: number;
  seed?: number;
  /** The gateway's limiter every option is simulated with. Default: its defaults. */
  limiter?: LimiterConfigInput;
  /**
   * Where an option misses the targets though each account's IPM could take its share, and
   * for the recommendation, also try the tuner's grid at the default headroom (safety 0.9:
   * concurrency adaptive, fixed 16 or fixed 64 × maxWait 1, 2 or 5 min), and keep the one
   * that meets the targets with the lowest slowest-class P95: an option is not passed over
   * for a limiter setting, and the recommendation comes with the limiter to use. Default true.
   */
  searchLimiter?: boolean;
  onProgress?: (tried: PlanOption) => void;
}

/** One option tried: `accounts` accounts of `tier`, each taking an even share of the demand (the gateway sends each request to the upstream with the most headroom). */
export interface PlanOption {
  tier: number;
  accounts: number;
  /** Images per minute delivered, all accounts together. */
  goodput: number;
  /** The slowest class's P95 and its name; the slowest time to first image. */
  worstP95Ms: number;
  worstClass: string;
  worstFirstImageP95Ms: number;
  provider429Rate: number;
  refusalRate: number;
  meets: boolean;
  /** What it missed, in words. */
  misses: string[];
  /** The limiter these figures were simulated with (`the defaults`, `the given limiter`, or a grid point's name). */
  limiter: string;
}

/** A limiter tried for an option (searched ones, and the recommendation), and how the option fared with it. */
export interface LimiterTried {
  name: string;
  config: LimiterConfigInput;
  option: PlanOption;
}

export interface Plan {
  tried: PlanOption[];
  /** The fewest accounts that meet every target, at the lowest tier that needs no more. */
  recommended: PlanOption | undefined;
  /** The limiters tried for the recommendation (the given one first), and the one to use: it meets the targets with the lowest slowest-class P95 (its figures are the recommendation's). */
  limiters: LimiterTried[];
  limiter: LimiterTried | undefined;
  /** USD per image of the mix (its classes' catalogue prices, weighted), per 1 000 images, and per 30-day month at the demand. */
  cost: { perImage: number; per1000: number; perMonth: number; byClass: { class: string; share: number; perImage: number }[] };
}

const MINUTE = 60_000;
const DAY_MEAN = DIURNAL_CURVE.slice(0, -1).reduce((a, b) => a + b, 0) / (DIURNAL_CURVE.length - 1);

/** The catalogue price of one image of each class, and of the mix (weighted by its shares). */
export function mixCost(mix: RequestMix, profileName: string): Omit<Plan['cost'], 'perMonth'> {
  const profile = loadProfile(profileName);
  const catalogue = catalogueOf(profile);
  const total = mix.classes.reduce((a, c) => a + c.weight, 0);
  const byClass = mix.classes.map((c) => {
    const fields = classFields(c, 1, 0, profile.defaultModel);
    const image = validateImageFields(fields, { catalogue, endpoint: c.endpoint }, classEditInputs(c));
    return { class: c.name, share: c.weight / total, perImage: priceOf(costInputOf(image), catalogue) / image.n };
  });
  const perImage = byClass.reduce((a, c) => a + c.share * c.perImage, 0);
  return { perImage, per1000: perImage * 1000, byClass };
}

/** One account's share of the demand as a plan in production time. */
function demandPlan(o: PlanOptions, perAccount: number): ScenarioPlan {
  if (o.day) {
    // The day scenario's rates are fractions of a capacity: the one whose curve has this mean.
    const plan = scenario('day', { capacity: perAccount / DAY_MEAN, timeScale: 1 });
    return { ...plan, description: `${perAccount.toFixed(1)} images/min on average over a day (diurnal)` };
  }
  return customScenario({ rate: perAccount, durationMs: o.durationMs ?? 30 * MINUTE }, { capacity: perAccount, timeScale: 1 });
}

/**
 * Which tier and how many accounts serve a demand within the targets, by simulation: for
 * each tier, lowest first, one account, then more until every target is met (or
 * `maxAccounts`); each account gets an even share of the demand and the gateway's limiter.
 * Accounts are simulated one at a time (they share nothing but the demand), so N accounts
 * are one simulation at demand ÷ N: the gateway's routing to the upstream with the most
 * headroom is taken as an even split. Where the limiter could decide an option, the tuner's
 * grid is tried too (`searchLimiter`), so an option is not passed over for a limiter setting.
 */
export async function plan(o: PlanOptions): Promise<Plan> {
  const profile = loadProfile(o.profile);
  const tiers = o.tiers ?? profileTiers(profile, true);
  const maxAccounts = o.maxAccounts ?? 8;
  const tried: PlanOption[] = [];
  // The limiters tried per option searched, by option.
  const searched = new Map<PlanOption, LimiterTried[]>();
  // The demand's peak over its mean: the evening of a day, 1 for a constant demand.
  const peak = o.day ? Math.max(...DIURNAL_CURVE) / DAY_MEAN : 1;
  for (const tier of tiers) {
    const ipm = loadTestLimits(profile, tier)?.ipm;
    for (let accounts = 1; accounts <= maxAccounts; accounts++) {
      let option = await evaluate(o, tier, accounts, o.limiter);
      // A limiter cannot add capacity: an account whose IPM cannot take its share at the demand's peak misses whatever the limiter.
      if (!option.meets && o.searchLimiter !== false && (ipm === undefined || (peak * o.demand) / accounts <= LIMITER_HEADROOM * ipm)) {
        const here = await limitersFor(o, tier, accounts, option);
        option = (bestLimiter(here) ?? here[0]!).option;
        searched.set(option, here);
      }
      tried.push(option);
      o.onProgress?.(option);
      if (option.meets) break;
    }
  }
  let recommended = recommendedAt(tried);
  let limiters: LimiterTried[] = [];
  if (recommended) {
    // Which limiter to use: for the recommendation, the quickest of the grid that meets the targets too.
    limiters = searched.get(recommended) ?? (o.searchLimiter === false ? [{ name: recommended.limiter, config: o.limiter ?? {}, option: recommended }] : await limitersFor(o, recommended.tier, recommended.accounts, recommended));
    const chosen = bestLimiter(limiters)!;
    tried[tried.indexOf(recommended)] = chosen.option;
    recommended = chosen.option;
  }
  const limiter = limiters.find((l) => l.option === recommended);
  const cost = mixCost(o.mix, o.profile);
  return { tried, recommended, limiters, limiter, cost: { ...cost, perMonth: cost.perImage * o.demand * 60 * 24 * 30 } };
}

/** Of the limiters that meet the targets, the lowest slowest-class P95; the given one unless another is more than 5 % quicker (not worth a change). */
export function bestLimiter(limiters: readonly LimiterTried[]): LimiterTried | undefined {
  const quickest = limiters.filter((l) => l.option.meets).sort((a, b) => a.option.worstP95Ms - b.option.worstP95Ms)[0];
  const given = limiters[0];
  if (given?.option.meets && quickest && given.option.worstP95Ms <= quickest.option.worstP95Ms * 1.05) return given;
  return quickest;
}

/** `accounts` accounts of `tier` with `limiter`, simulated at their share of the demand, held against the targets. */
async function evaluate(o: PlanOptions, tier: number, accounts: number, limiter: LimiterConfigInput | undefined, name = o.limiter ? 'the given limiter' : 'the defaults'): Promise<PlanOption> {
  const r = await runSim({ scenario: demandPlan(o, o.demand / accounts), profile: o.profile, tier, seed: o.seed ?? 1, mix: o.mix, ...(limiter ? { limiter } : {}) });
  const f = r.summary.ratelab;
  const w = worstClass(r.summary);
  const misses: string[] = [];
  if (w.p95 > o.targets.p95Ms) misses.push(`P95 of ${w.cls} ${Math.round(w.p95 / 1000)} s > ${Math.round(o.targets.p95Ms / 1000)} s`);
  if (o.targets.firstImageP95Ms !== undefined && w.firstImage > o.targets.firstImageP95Ms) misses.push(`P95 to first image ${Math.round(w.firstImage / 1000)} s > ${Math.round(o.targets.firstImageP95Ms / 1000)} s`);
  if (f.provider429Rate > o.targets.max429Rate) misses.push(`provider 429s ${(100 * f.provider429Rate).toFixed(2)} % > ${(100 * o.targets.max429Rate).toFixed(2)} %`);
  if (f.gatewayRefusalRate > o.targets.maxRefusalRate) misses.push(`refusals ${(100 * f.gatewayRefusalRate).toFixed(2)} % > ${(100 * o.targets.maxRefusalRate).toFixed(2)} %`);
  return {
    tier,
    accounts,
    goodput: f.goodputImagesPerMinute * accounts,
    worstP95Ms: w.p95,
    worstClass: w.cls,
    worstFirstImageP95Ms: w.firstImage,
    provider429Rate: f.provider429Rate,
    refusalRate: f.gatewayRefusalRate,
    meets: misses.length === 0,
    misses,
    limiter: name,
  };
}

/** Share of an account's IPM a limiter's budgets use by default (budgets.safety, 0.9): demand above it is refused or waits, whatever the limiter. */
const LIMITER_HEADROOM = parseLimiterConfig({}).budgets.safety;

/** The fewest accounts that meet every target, at the lowest tier that needs no more. */
function recommendedAt(tried: readonly PlanOption[]): PlanOption | undefined {
  const meeting = tried.filter((t) => t.meets);
  const fewest = Math.min(...meeting.map((t) => t.accounts));
  return meeting.find((t) => t.accounts === fewest);
}

/**
 * The limiters tried for an option: the one every option runs with, then the tuner's grid at
 * the default headroom (budgets.safety 0.9: none that spends the account's whole limit,
 * which other clients of the account or a provider counting differently turn into 429s).
 */
async function limitersFor(o: PlanOptions, tier: number, accounts: number, given: PlanOption): Promise<LimiterTried[]> {
  const out: LimiterTried[] = [{ name: given.limiter, config: o.limiter ?? {}, option: given }];
  const seen = new Set([JSON.stringify(parseLimiterConfig(o.limiter ?? {}))]);
  for (const c of defaultCandidates().filter((c) => c.config.budgets?.safety === LIMITER_HEADROOM)) {
    const key = JSON.stringify(parseLimiterConfig(c.config));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: c.name, config: c.config, option: await evaluate(o, tier, accounts, c.config, c.name) });
  }
  return out;
}

/** A gateway.yaml to start from: one upstream per account (keys from the environment, never in the file) and the limiter the plan simulated. */
export function plannedGatewayConfig(p: PlanOption, baseURL: string, limiter: LimiterConfigInput = {}): Record<string, unknown> {
  return {
    upstreams: Array.from({ length: p.accounts }, (_, i) => ({ name: `account-${i + 1}`, baseURL, apiKeyEnv: p.accounts === 1 ? 'UPSTREAM_API_KEY' : `UPSTREAM_${i + 1}_API_KEY` })),
    limiter,
  };
}
