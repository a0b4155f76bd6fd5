import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { readable } from '../report/production-time.ts';
import { calibrate, type Calibration } from '../sim/calibrate.ts';
import { readTrace } from '../sim/trace-replay.ts';
import { intOption } from './options.ts';

interface CalibrateCommandOptions {
  out: string;
  base: string;
  minSamples: number;
  tier?: number;
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;

/** The fit, side by side per class: observed and fitted P50 / P95 / P99 (production time), and what was not fitted. */
export function calibrationReport(c: Calibration, trace: string): string {
  const rows = c.fits.map((f) => {
    const cell = (p: 'p50' | 'p95' | 'p99') => `${readable(f.observed[p])} → ${readable(f.fitted[p])} (${pct(f.fitted[p] / f.observed[p] - 1)})`;
    const tokens = f.outputTokens.observed === null ? '—' : `${Math.round(f.outputTokens.observed)} (catalogue ${f.outputTokens.catalogue})`;
    return `| ${f.class} | ${f.samples} | ${cell('p50')} | ${cell('p95')} | ${cell('p99')} | ${tokens} | ${f.inputTokens === null ? '—' : Math.round(f.inputTokens)} |`;
  });
  const l = c.profile.latency;
  const lines = [
    `ratelab calibrate ${trace}: service time (latency less the gateway's queue, single-attempt answers), production time, observed → fitted`,
    '',
    '| class | samples | P50 | P95 | P99 | output tokens/image | input tokens |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `fitted: reference P50 ${readable(l.p50!)}, P95 ${readable(l.p95!)}, P99 ${readable(l.p99!)}; fixedShare ${l.fixedShare}, perInputImage ${l.perInputImage}; typical error ${pct(c.typicalError)}`,
  ];
  for (const t of c.tooFew) lines.push(`not fitted: ${t.class} has ${t.samples} answered single-attempt requests (fewer than --min-samples): its latency is the fitted model's guess, not the trace's`);
  const differ = c.tokens.filter((t) => t.observed !== t.catalogue);
  if (differ.length) {
    lines.push('', 'output tokens per image the provider charged, where the catalogue says otherwise (written into the profile):');
    for (const t of differ) lines.push(`  ${t.model} ${t.quality} ${t.size}: ${t.observed} (catalogue ${t.catalogue}, ${pct(t.observed / Math.max(t.catalogue, 1) - 1)}; ${t.samples} answers)`);
  } else if (c.tokens.length) lines.push('output tokens per image: as the catalogue says for every model, quality and size the trace answered');
  const written = c.profile.models ?? {};
  for (const r of c.inputImageTokens) {
    const how = r.separated ? 'base + perTile × tiles by least squares' : 'every reference had one tile count: the catalogue\'s pair scaled';
    const state = written[r.model]?.inputImageTokens ? 'written into the profile' : 'as the catalogue says';
    lines.push(`tokens per reference image for ${r.model}: base ${r.observed.base} + ${r.observed.perTile} per tile (catalogue ${r.catalogue.base} + ${r.catalogue.perTile}; ${r.samples} edits, ${how}): ${state}`);
  }
  for (const s of c.limitsSeen) {
    const said = `${s.requests ?? '?'} requests/min, ${s.tokens ?? '?'} tokens/min (x-ratelimit-limit-*)`;
    if (written[s.model]?.tiers) lines.push(`limits the provider said for ${s.model}: ${said}, no catalogue tier's: written as tier ${s.tier} (run the mock and the sim with --tier ${s.tier})`);
    else lines.push(`limits the provider said for ${s.model}: ${said}, the catalogue's tier ${s.tier ?? '?'} (use --tier ${s.tier ?? '?'})`);
  }
  const u = c.upstream;
  if (u.answers) {
    const share = (n: number) => pct(n / u.answers).replace('+', '');
    lines.push(`upstream answers: ${u.answers}; limit 429 ${share(u.limit429)}, contention 429 ${share(u.contention429)}, 503 ${share(u.status503)}${u.withoutHeaders ? `, without x-ratelimit-* headers ${share(u.withoutHeaders)}` : ''}`);
    const contention = c.profile.pool.contention;
    if (contention) lines.push(`  overload answered with ${contention.status}, as the provider did (pool.contention.status); how often depends on the load, which the replay sets`);
    if (c.profile.limits?.omitHeaders) lines.push('  no answer carried x-ratelimit-* headers: the profile omits them too (limits.omitHeaders)');
  }
  return lines.join('\n');
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .argument('<trace>', 'a gateway trace (ratelab gateway --trace)')
    .description("Fit a mock profile to a gateway trace (latency per class, output tokens, the provider's limits, how it answers overload), and show observed vs fitted per request class")
    .option('--out <profile.yaml>', 'where to write the fitted profile (extends --base)', 'profile.calibrated.yaml')
    .option('--base <profile>', 'the profile the fitted one extends', 'openai')
    .option('--min-samples <n>', 'fewest answered requests a class needs to be fitted', intOption('--min-samples', 3, 1_000_000), 20)
    .option('--tier <n>', "the tier to write the provider's limits at when they are no catalogue tier's (default: the highest tier they reach)", intOption('--tier', 0, 99))
    .action((trace: string, o: CalibrateCommandOptions) => {
      const c = calibrate(readTrace(trace), { base: o.base, minSamples: o.minSamples, ...(o.tier !== undefined ? { tier: o.tier } : {}) });
      console.log(calibrationReport(c, trace));
      const header = `# ratelab calibrate ${trace}: ${c.profile.description}; typical error ${pct(c.typicalError)}\n# use: ratelab sim --profile ${o.out}, ratelab stack --profile ${o.out}\n`;
      writeFileSync(o.out, header + stringify(c.profile));
      console.log(`wrote ${o.out}`);
    });
}
