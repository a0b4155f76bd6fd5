import { loadProfile } from '../../mock-server/profiles/index.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SCENARIO_NAMES, type ScenarioName } from '../../loadtests/scenarios.ts';
import { DEFAULT_MIX } from '../../loadtests/mixes.ts';
import { realClock } from '../core/clock.ts';
import { expectationMessage } from '../core/validation.ts';
import { parseGatewayConfig, type GatewayConfig } from '../gateway/config.ts';
import type { LimiterConfigInput } from '../limiter/config.ts';
import { htmlReport } from '../report/html-report.ts';
import { readable } from '../report/production-time.ts';
import { runLoadtest, type LoadtestOutcome, type LoadtestSettings } from './loadtest-run.ts';
import { loadMix } from '../loadgen/mix-file.ts';
import { loadtestOptions, type LoadtestCommandOptions } from './loadtest-command.ts';
import { CliError } from './options.ts';
import { progressReporter } from './progress.ts';

export const STRATEGIES = ['none', 'fixed', 'adaptive'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * none: the openai SDK straight at the provider, default retries, no limiter.
 * fixed: the gateway with a fixed concurrency cap (16) and no budgets: what `p-limit(16)` gives.
 * adaptive: the gateway's defaults (budgets learned from headers, adaptive concurrency).
 */
export const STRATEGY_LIMITERS: Record<Exclude<Strategy, 'none'>, LimiterConfigInput> = {
  fixed: { concurrency: { mode: 'fixed', limit: 16 }, budgets: { syncFromHeaders: false } },
  adaptive: {},
};
const GATEWAY: Record<Exclude<Strategy, 'none'>, GatewayConfig> = {
  fixed: parseGatewayConfig({ limiter: STRATEGY_LIMITERS.fixed }),
  adaptive: parseGatewayConfig({ limiter: STRATEGY_LIMITERS.adaptive }),
};

export interface CompareRow {
  strategy: Strategy;
  goodputImagesPerMinute: number;
  p50: number;
  p95: number;
  p99: number;
  provider429Rate: number;
  refusalRate: number;
  lost: number;
  requests: number;
  /** Images delivered, and their share of the requests offered. */
  images: number;
  delivered: number;
  /** 429s among every attempt the provider saw (SDK and limiter retries included). */
  providerSide429Rate: number | undefined;
}

export function compareRow(strategy: Strategy, o: LoadtestOutcome): CompareRow {
  const r = o.summary.ratelab;
  const ok = o.summary.metrics['http_req_duration{status:200}']?.values ?? {};
  return {
    strategy,
    goodputImagesPerMinute: r.goodputImagesPerMinute,
    p50: ok.med ?? 0,
    p95: ok['p(95)'] ?? 0,
    p99: ok['p(99)'] ?? 0,
    provider429Rate: r.provider429Rate,
    refusalRate: r.gatewayRefusalRate,
    lost: r.lostRequests,
    requests: r.requests,
    images: r.images,
    delivered: r.requests > 0 ? r.images / r.requests : 0,
    providerSide429Rate: r.provider?.rate429,
  };
}

/** The side-by-side table's cells, in production time (latencies as run ÷ the time scale). */
export function compareCells(rows: CompareRow[], timeScale: number): { head: string[]; rows: string[][] } {
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)} %`);
  const t = (ms: number) => readable(ms / timeScale);
  return {
    head: ['strategy', 'images delivered', 'goodput (images/min)', 'P50', 'P95', 'P99', '429 to clients', '429 at provider (all attempts)', 'gateway refusals', 'lost'],
    rows: rows.map((r) => [r.strategy, `${r.images} of ${r.requests} (${pct(r.delivered)})`, r.goodputImagesPerMinute.toFixed(1), t(r.p50), t(r.p95), t(r.p99), pct(r.provider429Rate), pct(r.providerSide429Rate), pct(r.refusalRate), String(r.lost)]),
  };
}

/** The table as the console prints it (Markdown), with where its times come from. */
export function compareTable(rows: CompareRow[], timeScale: number): string {
  const cells = compareCells(rows, timeScale);
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(cells.head), line(cells.head.map(() => '---')), ...cells.rows.map(line), '', compareTimeNote(timeScale)].join('\n');
}

/** Under the table: production time, and why the SDK baseline's retries are not (the SDK's backoff runs on the wall clock). */
export function compareTimeNote(timeScale: number): string {
  if (timeScale === 1) return 'Times are production time (P50/P95/P99 of images).';
  return `Times are production time (P50/P95/P99 of images; the runs took ${timeScale}× as long). none = the openai SDK's default retries, whose backoff (0.5–8 s) is not time-scaled: at scale ${timeScale} it waits ${Number((1 / timeScale).toPrecision(3))}× longer, relative to the run, than it would in production.`;
}

/** The same scenario against each strategy, one after another on fresh stacks. */
export async function runCompare(name: ScenarioName, base: Omit<LoadtestSettings, 'scenario' | 'outDir'>, outDir: string, strategies: readonly Strategy[] = STRATEGIES) {
  const outcomes: { strategy: Strategy; outcome: LoadtestOutcome }[] = [];
  // The openai SDK is a fifth of the CLI's start-up: loaded only for the strategy that sends through it.
  const sdk = strategies.includes('none') ? await import('../loadgen/sdk-iteration.ts') : undefined;
  for (const strategy of strategies) {
    const progress = progressReporter(`${name}/${strategy}`, base.timeScale);
    const outcome = await runLoadtest({
      ...base,
      scenario: name,
      outDir: join(outDir, strategy),
      onTick: progress.tick,
      ...(strategy === 'none'
        ? { viaGateway: false, iteration: (metrics, stack) => sdk!.sdkIteration(metrics, { baseURL: `${stack.mockUrl}/v1`, apiKey: `sk-tier${base.tier}-compare-none`, model: loadProfile(base.profile).defaultModel, clock: realClock, timeoutMs: 600_000, ...(base.mix ? { mix: base.mix } : {}) }) }
        : { gatewayConfig: GATEWAY[strategy] }),
    });
    progress.done();
    outcomes.push({ strategy, outcome });
  }
  const rows = outcomes.map(({ strategy, outcome }) => compareRow(strategy, outcome));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'compare.json'), `${JSON.stringify({ scenario: name, timeScale: base.timeScale, mix: base.mix?.name ?? DEFAULT_MIX, rows }, null, 2)}\n`);
  const first = outcomes[0]!.outcome;
  writeFileSync(
    join(outDir, 'report.html'),
    htmlReport({
      title: `ratelab compare ${name}`,
      subtitle: `${first.plan.description} · capacity ${first.capacity} images/min · strategies ${strategies.join(', ')} · time scale ${base.timeScale}`,
      timeScale: base.timeScale,
      capacity: first.capacity,
      table: { ...compareCells(rows, base.timeScale), note: compareTimeNote(base.timeScale) },
      runs: outcomes.map(({ strategy, outcome }) => ({ name: strategy, points: outcome.points, summary: outcome.summary })),
      windowS: first.windowS,
    }),
  );
  return { rows, outcomes };
}

export function registerCompareCommand(program: Command): void {
  loadtestOptions(program.command('compare').argument('<scenario>', SCENARIO_NAMES.join(' | ')).description('Run a scenario without a limiter (openai SDK retries), with a fixed limiter and with the adaptive one; print a side-by-side table')).action(
    async (name: string, o: LoadtestCommandOptions) => {
      if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new CliError(expectationMessage('<scenario>', `one of ${SCENARIO_NAMES.join(', ')}`, name));
      if (o.target) throw new CliError('Expected no `--target` for compare (it starts a fresh mock and gateway per strategy), got one');
      const custom = (['rate', 'vus', 'duration', 'options'] as const).find((k) => o[k] !== undefined);
      if (custom) throw new CliError(`Expected no \`--${custom}\` for compare (it runs the built-in scenarios; use loadtest custom for your own load), got one`);
      const outDir = o.out ?? join('results', `compare-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const { rows } = await runCompare(name as ScenarioName, { timeScale: o.timeScale, capacity: o.capacity, tier: o.tier, profile: o.profile, seed: o.seed, apiKey: o.apiKey, mix: loadMix(o.mix) }, outDir);
      console.log(`\n${compareTable(rows, o.timeScale)}\n\n  wrote ${join(outDir, 'compare.json')}, ${join(outDir, 'report.html')}`);
    },
  );
}
