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
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;

/** The fit, side by side per class: observed and fitted P50 / P95 / P99 (production time), and what was not fitted. */
export function calibrationReport(c: Calibration, trace: string): string {
  const rows = c.fits.map((f) => {
    const cell = (p: 'p50' | 'p95' | 'p99') => `${readable(f.observed[p])} → ${readable(f.fitted[p])} (${pct(f.fitted[p] / f.observed[p] - 1)})`;
    const tokens = f.outputTokens.observed === null ? '—' : `${Math.round(f.outputTokens.observed)} (catalogue ${f.outputTokens.catalogue})`;
    return `| ${f.class} | ${f.samples} | ${cell('p50')} | ${cell('p95')} | ${cell('p99')} | ${tokens} |`;
  });
  const l = c.profile.latency;
  const lines = [
    `ratelab calibrate ${trace}: service time (latency less the gateway's queue, single-attempt answers), production time, observed → fitted`,
    '',
    '| class | samples | P50 | P95 | P99 | output tokens/image |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `fitted: reference P50 ${readable(l.p50!)}, P95 ${readable(l.p95!)}, P99 ${readable(l.p99!)}; fixedShare ${l.fixedShare}, perInputImage ${l.perInputImage}; typical error ${pct(c.typicalError)}`,
  ];
  for (const t of c.tooFew) lines.push(`not fitted: ${t.class} has ${t.samples} answered single-attempt requests (fewer than --min-samples): its latency is the fitted model's guess, not the trace's`);
  for (const [model, seen] of Object.entries(c.limitsSeen)) lines.push(`limits the provider said for ${model}: ${seen.requests ?? '?'} requests/min, ${seen.tokens ?? '?'} tokens/min (x-ratelimit-limit-*; not written: tiers stay the base profile's)`);
  const u = c.upstream;
  if (u.answers) lines.push(`upstream answers: ${u.answers}, of which 429 ${pct(u.status429 / u.answers).replace('+', '')}, 503 ${pct(u.status503 / u.answers).replace('+', '')} (observed, not fitted)`);
  return lines.join('\n');
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .argument('<trace>', 'a gateway trace (ratelab gateway --trace)')
    .description("Fit a mock profile's latency to a gateway trace, and show observed vs fitted per request class")
    .option('--out <profile.yaml>', 'where to write the fitted profile (extends --base)', 'profile.calibrated.yaml')
    .option('--base <profile>', 'the profile the fitted one extends', 'openai')
    .option('--min-samples <n>', 'fewest answered requests a class needs to be fitted', intOption('--min-samples', 3, 1_000_000), 20)
    .action((trace: string, o: CalibrateCommandOptions) => {
      const c = calibrate(readTrace(trace), { base: o.base, minSamples: o.minSamples });
      console.log(calibrationReport(c, trace));
      const header = `# ratelab calibrate ${trace}: ${c.profile.description}; typical error ${pct(c.typicalError)}\n# use: ratelab sim --profile ${o.out}, ratelab stack --profile ${o.out}\n`;
      writeFileSync(o.out, header + stringify(c.profile));
      console.log(`wrote ${o.out}`);
    });
}
