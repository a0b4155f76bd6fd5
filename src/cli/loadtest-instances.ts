import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RequestMix } from '../../loadtests/mixes.ts';
import type { CustomLoad, RunnableScenario, ScenarioPlan } from '../../loadtests/scenarios.ts';
import { loadGatewayConfig, type GatewayConfig } from '../gateway/config.ts';
import { evenSplit } from '../loadgen/execution-segment.ts';
import type { SlowRequest } from '../loadgen/iteration-traces.ts';
import { mergedRun } from '../report/merged-run.ts';
import type { ProviderCounts, RunSummary } from '../report/run-facts.ts';
import { scrapeGateway, type GatewayAnswers, type GatewayGauges } from '../report/scrape.ts';
import { textSummary } from '../report/text-summary.ts';
import { finishRun, runPlan, seriesTickMs, stageAt, type LoadtestOutcome, type LoadtestSettings } from './loadtest-run.ts';
import { progressReporter } from './progress.ts';
import { runLengthMs } from '../loadgen/plan-length.ts';
import { k6Args, k6Env, THRESHOLDS_FAILED_EXIT } from './k6-command-line.ts';
import type { LoadtestCommandOptions } from './loadtest-command.ts';
import { CliError } from './options.ts';
import { startStack, type RunningStack } from './start-stack.ts';

/** How one engine of a split test is started: its command line, its environment, and where its samples go. */
export interface InstanceLaunch {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  samples: string;
  out: string;
}

export interface SplitRunOptions {
  scenario: RunnableScenario;
  engine: 'k6' | 'embedded';
  instances: number;
  outDir: string;
  timeScale: number;
  capacity?: number;
  target?: string;
  mockUrl?: string;
  profile: string;
  tier: number;
  seed: number;
  config?: string;
  mix: RequestMix;
  custom?: CustomLoad;
  /** `--threshold`s, as run (added to the scenario's): judged on the merged test. */
  thresholds?: Record<string, string[]>;
  /** The engine i of n, on its segment, against the target: how to start it. */
  launch: (i: { segment: string; sequence: string; out: string; samples: string; target: string; mockUrl: string; capacity: number }) => InstanceLaunch;
}

/**
 * One test across N engines, as k6-operator runs it with `parallelism: N`: each engine (a
 * k6 process or an embedded one) runs its execution segment against one target, writes
 * every sample in k6's JSON output format, and the samples are merged into one
 * summary.json, timeseries.json and report.html. The stack (mock and gateway) is started
 * once, here, unless a target is given.
 */
export async function runSplit(o: SplitRunOptions): Promise<LoadtestOutcome> {
  let stack: RunningStack | undefined;
  try {
    let target = o.target;
    let mockUrl = o.mockUrl ?? '';
    let capacity = o.capacity;
    const gatewayConfig = o.config ? loadGatewayConfig(o.config) : undefined;
    if (!target) {
      stack = await startStack({ requireAccess: capacity === undefined, profile: o.profile, tier: o.tier, timeScale: o.timeScale, seed: o.seed, logLevel: 'warn', ...(gatewayConfig ? { gatewayConfig } : {}) });
      target = stack.gateway.url;
      mockUrl = stack.mock.url;
      capacity ??= stack.capacity;
    }
    if (!capacity) throw new CliError('Expected `--capacity` (images per minute the target sustains at time scale 1) for this target, got nothing');
    const { segments, sequence } = evenSplit(o.instances);
    const launches = segments.map((segment, i) => {
      const out = resolve(o.outDir, `instance-${i + 1}`);
      mkdirSync(out, { recursive: true });
      return { segment, ...o.launch({ segment, sequence, out, samples: join(out, 'samples.jsonl.gz'), target: target!, mockUrl, capacity: capacity! }) };
    });
    const plan = runPlan(o.scenario, o.custom, { capacity, timeScale: o.timeScale }, o.thresholds);
    console.log(`  ${o.instances} ${o.engine} engines, execution segments ${segments.join(', ')} (sequence ${sequence}); each one's output in ${o.outDir}/instance-N/output.log`);
    // The gateway's queue and concurrency for the merged time series, scraped here while the engines run.
    const tickMs = seriesTickMs(plan);
    const scraped: { at: number; gauges: GatewayGauges | undefined }[] = [];
    // Progress from the gateway's own answers (counted from here: a --target may have served others before).
    const progress = progressReporter(o.scenario, o.timeScale);
    const totalMs = runLengthMs(plan.options);
    const startedAt = Date.now();
    let before: GatewayAnswers | undefined;
    let scraping = false;
    const scraper = setInterval(() => {
      if (scraping) return;
      scraping = true;
      const at = Date.now();
      void scrapeGateway(`${target!.replace(/\/$/, '')}/metrics`).then((gauges) => {
        scraped.push({ at, gauges });
        scraping = false;
        const a = gauges?.answers;
        if (!a) return;
        before ??= a;
        const elapsedMs = at - startedAt;
        progress.tick({ elapsedMs, totalMs, stage: stageAt(plan, elapsedMs), requests: a.total - before.total, errors: a.errors - before.errors, refusals: a.refusals - before.refusals, provider429: a.provider429 - before.provider429, inFlight: gauges.inFlight ?? 0 });
      });
    }, tickMs);
    const codes = await Promise.all(launches.map((l) => runInstance(l))).finally(() => {
      clearInterval(scraper);
      progress.done();
    });
    const failed = codes.flatMap((code, i) => (code === 0 || code === THRESHOLDS_FAILED_EXIT ? [] : [`instance-${i + 1} (segment ${launches[i]!.segment}) exited ${code}`]));
    const missing = launches.filter((l) => !existsSync(l.samples)).map((l) => l.samples);
    if (failed.length > 0 || missing.length > 0) {
      throw new CliError(`Expected every engine to finish its segment, got ${[...failed, ...missing.map((m) => `no samples in ${m}`)].join('; ')}: see its output.log; nothing merged, as a partial merge would under-count`);
    }
    return await mergeSamples({
      scenario: o.scenario,
      plan,
      mix: o.mix,
      files: launches.map((l) => l.samples),
      timeScale: o.timeScale,
      capacity,
      outDir: o.outDir,
      engine: `${o.engine} ×${o.instances}`,
      target,
      gateway: scraped,
      ...(gatewayConfig ? { gatewayConfig } : {}),
      ...(stack ? { stack: { provider: stack.mock.model.stats, profile: o.profile, tier: o.tier, seed: o.seed } } : {}),
      slowest: slowestOf(launches.map((l) => join(l.out, 'summary.json'))),
      instances: launches.map((l) => ({ segment: l.segment, out: l.out })),
    });
  } finally {
    await stack?.close();
  }
}

export interface MergeSamplesOptions {
  scenario: RunnableScenario;
  plan: ScenarioPlan;
  mix: RequestMix;
  /** Each engine's samples, k6's JSON output format. */
  files: string[];
  timeScale: number;
  capacity: number;
  outDir: string;
  engine: string;
  /** The gateway the engines drove, as the report names it. */
  target: string;
  gateway?: { at: number; gauges: GatewayGauges | undefined }[];
  gatewayConfig?: GatewayConfig;
  /** The stack started for the run: the mock's counts, and its profile for the verdict's tier advice. */
  stack?: { provider: ProviderCounts; profile: string; tier: number; seed: number };
  slowest?: SlowRequest[];
  instances?: { segment: string; out: string }[];
}

/** The engines' samples as one run: its figures, verdict and the three outputs, as for one engine. */
export async function mergeSamples(o: MergeSamplesOptions): Promise<LoadtestOutcome> {
  const { run, recorder } = await mergedRun({ files: o.files, plan: o.plan, mix: o.mix, tickMs: seriesTickMs(o.plan), ...(o.gateway ? { gateway: o.gateway } : {}) });
  const settings: LoadtestSettings = {
    scenario: o.scenario,
    mix: o.mix,
    timeScale: o.timeScale,
    outDir: o.outDir,
    ...(o.stack ? { profile: o.stack.profile, tier: o.stack.tier, seed: o.stack.seed } : { target: o.target, profile: '', tier: 0, seed: 0 }),
    ...(o.gatewayConfig ? { gatewayConfig: o.gatewayConfig } : {}),
  };
  return finishRun({
    plan: o.plan,
    run,
    recorder,
    s: settings,
    capacity: o.capacity,
    engine: o.engine,
    target: o.target,
    ...(o.stack ? { provider: o.stack.provider } : {}),
    ...(o.slowest ? { slowest: o.slowest } : {}),
    ...(o.instances ? { instances: o.instances } : {}),
  });
}

/** Starts one engine, its output to its own log file; resolves with its exit code. */
function runInstance(l: InstanceLaunch): Promise<number> {
  const log = createWriteStream(join(l.out, 'output.log'));
  const child = spawn(l.command, l.args, { env: l.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  return new Promise((done) => {
    child.once('error', (e) => {
      log.end(`\n${e.message}\n`);
      done(127);
    });
    child.once('close', (code) => {
      log.end();
      done(code ?? 1);
    });
  });
}

/** The slowest sampled requests of all engines (each engine's summary keeps its own ten). */
function slowestOf(summaries: string[]): SlowRequest[] {
  const all: SlowRequest[] = [];
  for (const file of summaries) {
    if (!existsSync(file)) continue;
    try {
      all.push(...(((JSON.parse(readFileSync(file, 'utf8')) as RunSummary).ratelab?.slowest ?? []) as SlowRequest[]));
    } catch {
      // a k6 summary without ratelab's figures
    }
  }
  return all.sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 10);
}

/** The flags an embedded engine of a split test is started with: this command's own, on its segment, against the one target. */
function embeddedArgs(name: RunnableScenario, o: LoadtestCommandOptions, i: { segment: string; sequence: string; out: string; samples: string; target: string; mockUrl: string; capacity: number }): string[] {
  const flag = (f: string, v: string | number | undefined): string[] => (v === undefined ? [] : [f, String(v)]);
  return [
    process.argv[1]!,
    'loadtest',
    name,
    '--engine', 'embedded',
    '--target', i.target,
    ...flag('--mock-url', i.mockUrl || undefined),
    '--capacity', String(i.capacity),
    '--time-scale', String(o.timeScale),
    '--mix', o.mix,
    '--trace-ratio', String(o.traceRatio),
    ...flag('--model', o.model),
    ...flag('--rate', o.rate),
    ...flag('--vus', o.vus),
    ...flag('--duration', o.duration === undefined ? undefined : `${o.duration}ms`),
    ...flag('--options', o.options),
    ...flag('--config', o.config),
    ...o.threshold.flatMap((t) => ['--threshold', t]),
    ...(o.allowRemote ? ['--allow-remote'] : []),
    '--execution-segment', i.segment,
    '--execution-segment-sequence', i.sequence,
    '--samples', i.samples,
    '--out', i.out,
  ];
}

/** `--instances n`: the test split across n engines and merged (k6-operator's `parallelism`, here). */
export async function runInstances(
  name: RunnableScenario,
  o: LoadtestCommandOptions,
  outDir: string,
  custom: CustomLoad | undefined,
  mix: RequestMix,
  engine: 'k6' | 'embedded',
  thresholds: Record<string, string[]>,
): Promise<number> {
  const refused = (['executionSegment', 'executionSegmentSequence', 'samples', 'prometheusPort', 'trace'] as const).find((k) => o[k] !== undefined);
  if (refused) throw new CliError(`Expected no \`--${refused.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}\` with \`--instances\` (each engine gets its own segment, samples and outputs), got \`${String(o[refused])}\``);
  const outcome = await runSplit({
    scenario: name,
    engine,
    instances: o.instances,
    outDir,
    timeScale: o.timeScale,
    profile: o.profile,
    tier: o.tier,
    seed: o.seed,
    mix,
    thresholds,
    ...(o.capacity ? { capacity: o.capacity } : {}),
    ...(o.target ? { target: o.target, mockUrl: o.mockUrl } : {}),
    ...(o.config ? { config: o.config } : {}),
    ...(custom ? { custom } : {}),
    launch: (i) =>
      engine === 'k6'
        ? { command: 'k6', args: k6Args(name, { executionSegment: i.segment, executionSegmentSequence: i.sequence, samples: i.samples }), env: k6Env(o, i.out, custom, mix, i), samples: i.samples, out: i.out }
        : // The client key by environment, not on a command line anyone on the machine can read.
          { command: process.execPath, args: embeddedArgs(name, o, i), env: { ...process.env, API_KEY: o.apiKey, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, samples: i.samples, out: i.out },
  });
  console.log(textSummary(outcome.summary, `ratelab ${name} (${o.instances} ${engine} engines merged, time scale ${o.timeScale}, capacity ${outcome.capacity} images/min, mix ${mix.name})`, o.timeScale));
  console.log(`  Verdict: ${String(outcome.summary.ratelab.verdict)}\n`);
  console.log(`  wrote ${outcome.files.summary}, ${outcome.files.timeseries}, ${outcome.files.report}`);
  if (outcome.thresholdsFailed) console.log(`  some thresholds failed: exit ${THRESHOLDS_FAILED_EXIT}`);
  return outcome.thresholdsFailed ? THRESHOLDS_FAILED_EXIT : 0;
}
