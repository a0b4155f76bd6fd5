import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { parseGatewayConfig } from '../gateway/config.ts';
import { parseLimiterConfig } from '../limiter/config.ts';
import { loadProfile } from '../../mock-server/profiles/index.ts';
import { loadTestLimits } from '../sim/capacity.ts';
import { runSim } from '../sim/run-sim.ts';
import { humanDuration } from '../core/duration.ts';
import { recommendationRisks } from '../sim/tune-risks.ts';
import { tune, type Scored } from '../sim/tune.ts';
import { mixCost } from '../sim/plan.ts';
import type { RequestMix } from '../../loadtests/mixes.ts';
import { runLoadtest } from './loadtest-run.ts';
import { scaleOptions } from './options-file.ts';
import { simLoadOf, simTargetOptions, type SimTarget } from './sim-options.ts';
import { CliError, durationOption, intOption, numberOption } from './options.ts';

interface TuneCommandOptions extends SimTarget {
  refine: boolean;
  max429Rate: number;
  p95: number;
  seeds: number;
  out: string;
  validate: boolean;
  validateScale: number;
}

/** A front row; with a mix of several classes, the slowest class's P95 beside the run's (the P95 limit holds for every class). */
const row = (s: Scored, perClass: boolean) =>
  `| ${s.name} | ${s.figures.images.toFixed(0)} | ${s.figures.goodput.toFixed(1)} | ${humanDuration(s.figures.p95)} |${perClass ? ` ${humanDuration(s.figures.worst.p95)} (${s.figures.worst.cls}) |` : ''} ${(100 * s.figures.provider429Rate).toFixed(2)} % | ${(100 * s.figures.refusalRate).toFixed(2)} % | ${s.feasible ? 'yes' : 'no'} |`;

/** The recommendation per class: its share of the mix, P95, P95 to the first image and catalogue price per image; then the mix's cost. */
export function classLines(best: Scored, mix: RequestMix, profile: string): string[] {
  const cost = mixCost(mix, profile);
  const lines: string[] = [];
  if (best.figures.classes) {
    lines.push('per class (recommended, simulated, production time):', '| class | share | P95 | P95 to first image | $ per image |', '|---|---|---|---|---|');
    const time = (ms: number | null) => (ms === null ? '—' : humanDuration(ms));
    for (const c of best.figures.classes) {
      const price = cost.byClass.find((x) => x.class === c.class);
      lines.push(`| ${c.class} | ${price ? `${(100 * price.share).toFixed(0)} %` : '—'} | ${time(c.p95)} | ${time(c.firstImageP95)} | ${price ? `$${price.perImage.toFixed(4)}` : '—'} |`);
    }
  }
  lines.push(`cost (catalogue prices): $${cost.perImage.toFixed(4)} per image, $${cost.per1000.toFixed(2)} per 1 000 images; at the recommendation's goodput (${best.figures.goodput.toFixed(1)} images/min) $${(cost.perImage * best.figures.goodput * 60).toFixed(2)} an hour`);
  return lines;
}

export function registerTuneCommand(program: Command): void {
  simTargetOptions(program.command('tune'))
    .description('Search limiter settings on the simulator; print the Pareto front and write the recommended limiter.yaml')
    .option('--max-429-rate <fraction>', 'largest acceptable provider 429 rate', numberOption('--max-429-rate', 0, 1), 0.01)
    .option('--p95 <duration>', 'largest acceptable P95 of successful requests', durationOption('--p95'), 360_000)
    .option('--seeds <n>', 'seeds per candidate', intOption('--seeds', 1, 50), 2)
    .option('--no-refine', 'search the grid only (concurrency × safety × maxWait), without varying the other settings around its best')
    .option('--out <limiter.yaml>', 'where to write the recommendation', 'limiter.tuned.yaml')
    .option('--validate', 'then run the recommendation for real over HTTP (at --validate-scale) and print sim vs real', false)
    .option('--validate-scale <s>', 'time scale of the validation run', numberOption('--validate-scale', 0.001, 1), 0.02)
    .action(async (o: TuneCommandOptions, cmd: Command) => {
      const { scenario, mix } = simLoadOf(o, (option) => cmd.getOptionValueSource(option) === 'cli');
      const scenarioName = typeof scenario === 'string' ? scenario : `--trace ${o.trace} (${scenario.description})`;
      const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
      const seedCount = `${seeds.length} seed${seeds.length === 1 ? '' : 's'}`;
      const t0 = performance.now();
      const { scored, front, best, considered } = await tune({
        profile: o.profile,
        tier: o.tier,
        scenario,
        max429Rate: o.max429Rate,
        p95Ms: o.p95,
        seeds,
        mix,
        refine: o.refine,
        onProgress: tuneProgress(),
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const skipped = considered - scored.length;
      const counted = skipped > 0 ? ` (of ${considered} considered: ${skipped} did not apply or repeated one already run)` : '';
      console.log(`\n${scored.length} candidates${counted} × ${seedCount} simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s. Pareto front (images ↑, goodput ↑, P95 ↓, provider 429s ↓), production time:\n`);
      const ipm = loadTestLimits(loadProfile(o.profile), o.tier)?.ipm;
      // The account's bucket starts full (as OpenAI's does): a run can deliver a minute's worth beyond the limit.
      const goodputHeader = ipm === undefined ? 'goodput (img/min)' : `goodput (img/min; limit ${ipm}, its bucket starts full)`;
      const perClass = mix.classes.length > 1;
      console.log(`| candidate | images | ${goodputHeader} | P95 |${perClass ? ' slowest class P95 |' : ''} provider 429 | refusals | meets limits |\n|---|---|---|---|${perClass ? '---|' : ''}---|---|---|`);
      for (const s of front) console.log(row(s, perClass));
      if (!best) throw new CliError(`Expected a candidate with provider 429 rate ≤ ${o.max429Rate} and P95 ≤ ${humanDuration(o.p95)}${perClass ? ' in every class' : ''}, got none: relax --max-429-rate or --p95`);
      const perClassLines = classLines(best, mix, o.profile);
      const config = parseLimiterConfig(best.config);
      const risks = recommendationRisks(best, ipm);
      const header = [
        `# ratelab tune: ${o.profile} tier ${o.tier}, scenario ${scenarioName}, mix ${mix.name}, ${seedCount}, limits: provider 429 ≤ ${o.max429Rate}, P95 ≤ ${humanDuration(o.p95)}`,
        `# recommended: ${best.name}`,
        `# expected (simulated, production time): ${best.figures.images.toFixed(0)} images delivered, goodput ${best.figures.goodput.toFixed(1)} images/min, P95 ${humanDuration(best.figures.p95)}, provider 429 ${(100 * best.figures.provider429Rate).toFixed(2)} %, refusals ${(100 * best.figures.refusalRate).toFixed(2)} %`,
        ...risks.map((r) => `# risk: ${r}`),
        ...perClassLines.map((l) => `# ${l}`),
      ].join('\n');
      writeFileSync(o.out, `${header}\n${stringify(best.config)}`);
      console.log(`\nrecommended: ${best.name}`);
      console.log(perClassLines.join('\n'));
      if (risks.length) console.log(`risks the simulator cannot see:\n${risks.map((r) => `  - ${r}`).join('\n')}`);
      console.log(`wrote ${o.out}`);
      if (!o.validate) return;
      const sim = await runSim({ scenario, profile: o.profile, tier: o.tier, seed: 1, limiter: config, mix });
      const real = await runLoadtest({ ...(typeof scenario === 'string' ? { scenario } : { scenario: 'custom', custom: { options: scaleOptions(scenario.options, o.validateScale), description: scenario.description } }), mix, timeScale: o.validateScale, tier: o.tier, profile: o.profile, seed: 1, outDir: mkdtempSync(join(tmpdir(), 'ratelab-validate-')), gatewayConfig: parseGatewayConfig({ limiter: best.config }) });
      const s = sim.summary.ratelab;
      const r = real.summary.ratelab;
      const p95 = (x: typeof sim.summary, scale: number) => (x.metrics['http_req_duration{status:200}']?.values['p(95)'] ?? 0) / scale;
      console.log(`\nsim vs real (real at time scale ${o.validateScale}, shown at scale 1):\n| measure | sim | real |\n|---|---|---|`);
      console.log(`| goodput (img/min) | ${s.goodputImagesPerMinute.toFixed(1)} | ${r.goodputImagesPerMinute.toFixed(1)} |`);
      console.log(`| P95 | ${(p95(sim.summary, 1) / 1000).toFixed(1)} s | ${(p95(real.summary, o.validateScale) / 1000).toFixed(1)} s |`);
      console.log(`| provider 429 | ${(100 * s.provider429Rate).toFixed(2)} % | ${(100 * r.provider429Rate).toFixed(2)} % |`);
      console.log(`| refusals | ${(100 * s.gatewayRefusalRate).toFixed(2)} % | ${(100 * r.gatewayRefusalRate).toFixed(2)} % |`);
    });
}

/** On a terminal one line rewritten in place; in a log a line per tenth of the candidates. */
function tuneProgress(): (done: number, total: number) => void {
  let lastTenth = -1;
  return (done, total) => {
    if (process.stderr.isTTY) return void process.stderr.write(`\rtune: ${done}/${total} candidates`);
    const tenth = Math.floor((10 * done) / total);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    process.stderr.write(`tune: ${done}/${total} candidates\n`);
  };
}
