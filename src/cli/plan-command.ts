import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { humanDuration } from '../core/duration.ts';
import { loadLimiterConfig } from '../limiter/config.ts';
import { loadMix } from '../loadgen/mix-file.ts';
import { plan, plannedGatewayConfig, type Plan, type PlanOption } from '../sim/plan.ts';
import { readTrace, replayOf } from '../sim/trace-replay.ts';
import { CliError, durationOption, intOption, numberOption } from './options.ts';
import { DEFAULT_MIX, MIXES } from '../../loadtests/mixes.ts';

interface PlanCommandOptions {
  demand?: number;
  mix: string;
  trace?: string;
  day: boolean;
  duration?: number;
  profile: string;
  p95: number;
  firstImage?: number;
  max429Rate: number;
  maxRefusalRate: number;
  maxAccounts: number;
  limiter?: string;
  searchLimiter: boolean;
  baseUrl: string;
  out: string;
}

const usd = (x: number): string => (x >= 100 ? `$${Math.round(x).toLocaleString('en-US')}` : `$${x.toFixed(x >= 1 ? 2 : 4)}`);

function row(t: PlanOption, limiterColumn: boolean): string {
  return `| tier ${t.tier} × ${t.accounts} |${limiterColumn ? ` ${t.limiter} |` : ''} ${t.goodput.toFixed(1)} | ${humanDuration(t.worstP95Ms)} (${t.worstClass}) | ${humanDuration(t.worstFirstImageP95Ms)} | ${(100 * t.provider429Rate).toFixed(2)} % | ${(100 * t.refusalRate).toFixed(2)} % | ${t.meets ? 'yes' : `no: ${t.misses.join('; ')}`} |`;
}

/** The plan for a person: every option tried, the recommendation, and what the mix costs (catalogue prices). */
export function planReport(p: Plan, demand: string): string {
  // Each option is shown with the limiter that served it best; a column only when that was not always the same one.
  const limiterColumn = new Set(p.tried.map((t) => t.limiter)).size > 1;
  const lines = [
    `ratelab plan: ${demand}; every figure simulated, production time`,
    '',
    `| option |${limiterColumn ? ' limiter |' : ''} goodput (img/min, drain included) | slowest class P95 | P95 to first image | provider 429 | refusals | meets targets |`,
    `|---|${limiterColumn ? '---|' : ''}---|---|---|---|---|---|`,
    ...p.tried.map((t) => row(t, limiterColumn)),
    '',
    p.recommended
      ? `recommended: ${p.recommended.accounts} account${p.recommended.accounts === 1 ? '' : 's'} of tier ${p.recommended.tier}`
      : 'no option tried meets every target: raise --max-accounts, relax a target, or split the demand',
    ...limiterLines(p),
    `cost (catalogue prices): ${usd(p.cost.perImage)} per image, ${usd(p.cost.per1000)} per 1 000 images, ${usd(p.cost.perMonth)} per 30-day month at this demand`,
    ...p.cost.byClass.map((c) => `  ${c.class}: ${(100 * c.share).toFixed(0)} % of images at ${usd(c.perImage)}`),
  ];
  return lines.join('\n');
}

/** The limiters tried for the recommendation, and the one to use. */
function limiterLines(p: Plan): string[] {
  if (p.limiters.length <= 1 || !p.recommended) return [];
  const lines = ['', `limiter settings for ${p.recommended.accounts} × tier ${p.recommended.tier} (simulated):`, '| limiter | goodput | slowest class P95 | refusals | meets targets |', '|---|---|---|---|---|'];
  for (const l of p.limiters) lines.push(`| ${l.name} | ${l.option.goodput.toFixed(1)} | ${humanDuration(l.option.worstP95Ms)} (${l.option.worstClass}) | ${(100 * l.option.refusalRate).toFixed(2)} % | ${l.option.meets ? 'yes' : 'no'} |`);
  if (p.limiter) lines.push(`limiter to use: ${p.limiter.name}${p.limiter === p.limiters[0] ? ' (no other meets the targets more than 5 % quicker)' : ''}`);
  lines.push('');
  return lines;
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('Which tier and how many accounts serve a demand within latency and 429 targets, the limiter to start from, and the cost (by simulation)')
    .option('--demand <images/min>', 'images per minute the app asks for (production time; with --day, the day\'s mean); default with --trace: the trace\'s own rate', numberOption('--demand', 0.01, 1e6))
    .option('--mix <name|file>', `the request mix (${Object.keys(MIXES).join(', ')}, or a mix file)`, DEFAULT_MIX)
    .option('--trace <file>', "a gateway trace: its classes are the mix (and its rate the demand unless --demand)")
    .option('--day', "the demand follows the day scenario's diurnal curve (its mean = --demand)", false)
    .option('--duration <duration>', 'how long the demand is held (default 30m; with --day, 24h)', durationOption('--duration'))
    .option('--profile <name|file>', 'mock profile (a calibrated one fits your traffic: ratelab calibrate)', 'openai')
    .option('--p95 <duration>', "every class's P95 (successful requests) at most", durationOption('--p95'), 360_000)
    .option('--first-image <duration>', "every class's P95 time to its first image at most (a stream's first partial)", durationOption('--first-image'))
    .option('--max-429-rate <rate>', 'provider 429s that reach clients, at most', numberOption('--max-429-rate', 0, 1), 0.01)
    .option('--max-refusal-rate <rate>', "the gateway's refusals (demand not served), at most", numberOption('--max-refusal-rate', 0, 1), 0.01)
    .option('--max-accounts <n>', 'most accounts tried per tier', intOption('--max-accounts', 1, 64), 8)
    .option('--limiter <limiter.yaml>', "the gateway's limiter every option is simulated with (default: its defaults)")
    .option('--no-search-limiter', "keep --limiter for the recommendation instead of trying the tuner's grid at safety 0.9 (concurrency × maxWait) and keeping the quickest that meets the targets")
    .option('--base-url <url>', "the provider's base URL in the written gateway.yaml", 'https://api.openai.com/v1')
    .option('--out <gateway.yaml>', 'where to write the recommended gateway config', 'gateway.planned.yaml')
    .action(async (o: PlanCommandOptions) => {
      const replay = o.trace ? replayOf(readTrace(o.trace)) : undefined;
      const demand = o.demand ?? (replay ? (replay.replayed / Math.max(replay.spanMs, 1)) * 60_000 : undefined);
      if (demand === undefined) throw new CliError('Expected `--demand` (images per minute) or a `--trace` to take it from, got neither');
      const mix = replay ? replay.mix : loadMix(o.mix);
      const limiter = o.limiter ? loadLimiterConfig(o.limiter) : undefined;
      const given = limiter ? 'the given limiter' : 'the defaults';
      const progress = (t: PlanOption) => process.stderr.write(`plan: tier ${t.tier} × ${t.accounts}: ${t.meets ? 'meets the targets' : t.misses.join('; ')}${t.limiter === given ? '' : ` (limiter ${t.limiter})`}\n`);
      const p = await plan({
        profile: o.profile,
        mix,
        demand,
        day: o.day,
        ...(o.duration !== undefined ? { durationMs: o.duration } : {}),
        targets: { p95Ms: o.p95, ...(o.firstImage !== undefined ? { firstImageP95Ms: o.firstImage } : {}), max429Rate: o.max429Rate, maxRefusalRate: o.maxRefusalRate },
        maxAccounts: o.maxAccounts,
        ...(limiter ? { limiter } : {}),
        searchLimiter: o.searchLimiter,
        onProgress: progress,
      });
      const what = `${demand.toFixed(1)} images/min${o.day ? ' on average over a day' : ''} of mix ${mix.name} on profile ${o.profile}; targets: every class P95 ≤ ${humanDuration(o.p95)}${o.firstImage !== undefined ? `, first image ≤ ${humanDuration(o.firstImage)}` : ''}, provider 429 ≤ ${o.max429Rate}, refusals ≤ ${o.maxRefusalRate}`;
      console.log(planReport(p, what));
      if (!p.recommended) return void (process.exitCode = 1);
      const chosen = p.limiter!;
      const header = `# ratelab plan: ${what}\n# recommended: ${p.recommended.accounts} × tier ${p.recommended.tier}, limiter ${chosen.name}; simulated goodput ${chosen.option.goodput.toFixed(1)} images/min, slowest class P95 ${humanDuration(chosen.option.worstP95Ms)}\n# keys come from the environment (apiKeyEnv), never this file; ratelab tune searches the limiter further\n`;
      writeFileSync(o.out, header + stringify(plannedGatewayConfig(p.recommended, o.baseUrl, chosen.config)));
      console.log(`wrote ${o.out}`);
    });
}
