import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_MIX } from '../../loadtests/mixes.ts';
import { DEFAULT_TIME_SCALE, SCENARIO_NAMES } from '../../loadtests/scenarios.ts';
import { MAX_TIME_SCALE, MIN_TIME_SCALE } from '../core/time-scale.ts';
import { expectationMessage } from '../core/validation.ts';
import { loadMix } from '../loadgen/mix-file.ts';
import { textSummary } from '../report/text-summary.ts';
import { THRESHOLDS_FAILED_EXIT } from './k6-command-line.ts';
import { customLoadOf, parseThresholdFlag, runnableScenario, thresholdsOf } from './loadtest-command.ts';
import { runPlan } from './loadtest-run.ts';
import { mergeSamples } from './loadtest-instances.ts';
import { CliError, durationOption, intOption, numberOption } from './options.ts';

interface MergeCommandOptions {
  capacity: number;
  timeScale: number;
  mix: string;
  rate?: number;
  vus?: number;
  duration?: number;
  options?: string;
  threshold: string[];
  target: string;
  out?: string;
}

/**
 * `ratelab merge <scenario> <samples...>`: what `loadtest --instances` does after its engines
 * end, for engines run elsewhere — k6-operator's pods or k6 processes on several machines,
 * each with `--out json=<file>`, or ratelab engines with `--samples`.
 */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .argument('<scenario>', `the scenario the engines ran: ${SCENARIO_NAMES.join(' | ')} | custom (with its --rate or --vus and --duration, or --options)`)
    .argument('<samples...>', "each engine's samples: k6's JSON output (k6 run --out json=file, .gz too) or ratelab's --samples")
    .description("Merge the samples of one test split across engines (execution segments) into one summary.json, timeseries.json and report.html: counts summed, percentiles from every sample, thresholds on the whole")
    .requiredOption('--capacity <images/min>', 'the target\'s sustainable images per minute at scale 1, as the engines were given (CAPACITY)', numberOption('--capacity', 0.1, 1e7))
    .addOption(new Option('--time-scale <s>', 'the time scale the engines ran at (TIME_SCALE)').env('TIME_SCALE').argParser(numberOption('--time-scale', MIN_TIME_SCALE, MAX_TIME_SCALE)).default(DEFAULT_TIME_SCALE))
    .option('--mix <name|file>', 'the request mix the engines sent (MIX)', DEFAULT_MIX)
    .option('--rate <images/min>', 'custom: as run', numberOption('--rate', 0.01, 1e6))
    .option('--vus <n>', 'custom: as run', intOption('--vus', 1, 100_000))
    .option('--duration <duration>', 'custom: as run, production time', durationOption('--duration'))
    .option('--options <file>', 'custom: the k6 options file the engines ran')
    .option('--threshold <metric=expr>', 'add a threshold, judged on the merged test (repeatable; production ms)', parseThresholdFlag, [])
    .option('--target <url>', 'the gateway the engines drove, as the report names it', 'unknown')
    .option('--out <dir>', 'where to write summary.json, timeseries.json and report.html (default results/<scenario>-merged-<time>)')
    .action(async (name: string, files: string[], o: MergeCommandOptions) => {
      const scenarioName = runnableScenario(name);
      const missing = files.find((f) => !existsSync(f));
      if (missing !== undefined) throw new CliError(expectationMessage('<samples...>', 'files of k6 JSON output (k6 run --out json=file)', missing));
      const plan = runPlan(scenarioName, customLoadOf(scenarioName, o), { capacity: o.capacity, timeScale: o.timeScale }, thresholdsOf(o.threshold, o.timeScale));
      const mix = loadMix(o.mix);
      const outDir = o.out ?? join('results', `${scenarioName}-merged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(outDir, { recursive: true });
      const outcome = await mergeSamples({ scenario: scenarioName, plan, mix, files, timeScale: o.timeScale, capacity: o.capacity, outDir, engine: `${files.length} engines`, target: o.target });
      console.log(textSummary(outcome.summary, `ratelab ${scenarioName} (${files.length} engines merged, time scale ${o.timeScale}, capacity ${o.capacity} images/min, mix ${mix.name})`, o.timeScale));
      console.log(`  Verdict: ${String(outcome.summary.ratelab.verdict)}\n`);
      console.log(`  wrote ${outcome.files.summary}, ${outcome.files.timeseries}, ${outcome.files.report}`);
      process.exitCode = outcome.thresholdsFailed ? THRESHOLDS_FAILED_EXIT : 0;
    });
}
