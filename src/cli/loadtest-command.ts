import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { Registry } from 'prom-client';
import { DEFAULT_MIX, DEV_KEY, MIXES, missingPriorityKeys, priorityKeysOf, type RequestMix } from '../../loadtests/mixes.ts';
import { DEFAULT_TIER, DEFAULT_TIME_SCALE, SCENARIO_NAMES, type CustomLoad, type RunnableScenario } from '../../loadtests/scenarios.ts';
import { MAX_TIME_SCALE, MIN_TIME_SCALE } from '../core/time-scale.ts';
import { expectationMessage } from '../core/validation.ts';
import { loadGatewayConfig } from '../gateway/config.ts';
import { loadMix } from '../loadgen/mix-file.ts';
import { tracingWanted } from '../metrics/tracing.ts';
import { describeWarmUp } from '../loadgen/warm-up.ts';
import { textSummary } from '../report/text-summary.ts';
import { runLoadtest, slowestFacts, type LoadtestSettings } from './loadtest-run.ts';
import { runInstances } from './loadtest-instances.ts';
import { k6Args, k6Env, THRESHOLDS_FAILED_EXIT } from './k6-command-line.ts';

export { THRESHOLDS_FAILED_EXIT };
import { ExecutionTuple, parseSegment, parseSequence } from '../loadgen/execution-segment.ts';
import { suggestionText } from '../core/suggest.ts';
import { loadOptionsFile, scaleOptions } from './options-file.ts';
import { readTrace, replayOf, type TraceReplay } from '../sim/trace-replay.ts';
import { scaleForTarget, targetTimeScale } from './target-time-scale.ts';
import { CliError, durationOption, intOption, isLoopbackUrl, numberOption } from './options.ts';
import { progressReporter } from './progress.ts';
import { scaleThreshold } from '../report/production-time.ts';
import { startStack, type RunningStack } from './start-stack.ts';

export interface LoadtestCommandOptions {
  engine: 'auto' | 'k6' | 'embedded';
  timeScale: number;
  /** Whether --time-scale (or TIME_SCALE) was given, rather than defaulted: a target's own scale wins over the default only. */
  timeScaleGiven?: boolean;
  target?: string;
  mockUrl?: string;
  apiKey: string;
  model?: string;
  capacity?: number;
  tier: number;
  profile: string;
  seed: number;
  config?: string;
  threshold: string[];
  out?: string;
  prometheusPort?: number;
  allowRemote: boolean;
  /** `custom`: images/min at scale 1, or VUs, for `duration` (ms at scale 1). */
  rate?: number;
  vus?: number;
  duration?: number;
  /** `custom`: a k6 options file (JSON or YAML) in production time, instead of the three above. */
  options?: string;
  /** A built-in request mix or a mix file. */
  mix: string;
  /** `replay`: a gateway trace whose arrivals and classes are the load, and its rate factor. */
  trace?: string;
  rateFactor?: number;
  /** Whether --mix was given (a trace brings its own classes). */
  mixGiven?: boolean;
  /** Share of requests whose traceparent is flagged sampled. */
  traceRatio: number;
  /** Run the test across this many engines (k6 processes or embedded ones), each on its execution segment, and merge them. */
  instances: number;
  /** This engine's share of a split test, k6's `--execution-segment` and `--execution-segment-sequence`. */
  executionSegment?: string;
  executionSegmentSequence?: string;
  /** Every metric sample in k6's JSON output format, to this file. */
  samples?: string;
}

/** `custom`'s load from its flags; the flags are refused for the built-in scenarios, which have their own. */
export function customLoadOf(name: RunnableScenario, o: Pick<LoadtestCommandOptions, 'rate' | 'vus' | 'duration' | 'options' | 'timeScale'>): CustomLoad | undefined {
  const given = (['rate', 'vus', 'duration', 'options'] as const).filter((k) => o[k] !== undefined);
  if (name !== 'custom') {
    if (given.length > 0) throw new CliError(`Expected \`--${given[0]}\` only with the \`custom\` scenario, got it with \`${name}\` (its load is fixed: see loadtests/scenarios.ts)`);
    return undefined;
  }
  if (o.options !== undefined) {
    const other = given.find((k) => k !== 'options');
    if (other) throw new CliError(`Expected \`--options\` or \`--${other}\`, got both (the options file says the whole load)`);
    try {
      return loadOptionsFile(o.options, o.timeScale);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  }
  if ((o.rate === undefined) === (o.vus === undefined)) throw new CliError(`Expected exactly one of \`--rate\` (images/min) and \`--vus\` for \`custom\`, got ${o.rate === undefined ? 'neither' : 'both'}: e.g. ratelab loadtest custom --rate 80 --duration 10m, or --options k6-options.json`);
  if (o.duration === undefined) throw new CliError('Expected `--duration` for `custom` (production time, e.g. 10m), got nothing');
  return { ...(o.rate !== undefined ? { rate: o.rate } : { vus: o.vus! }), durationMs: o.duration };
}

/** `--threshold` flags by metric, as run: durations in them are production ms, like every figure ratelab shows. */
export function thresholdsOf(flags: readonly string[], timeScale: number): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {};
  for (const flag of flags) {
    const i = flag.indexOf('=');
    const metric = flag.slice(0, i);
    (thresholds[metric] ??= []).push(scaleThreshold(metric, flag.slice(i + 1), timeScale));
  }
  return thresholds;
}

export function parseThresholdFlag(value: string, previous: string[] = []): string[] {
  if (!/^[A-Za-z0-9_]+(\{[^}]*\})?=.+$/.test(value)) throw new CliError(expectationMessage('--threshold', 'metric=expression, like "http_req_duration=p(95)<500"', value));
  return [...previous, value];
}

export function loadtestOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--engine <engine>', 'k6 when it is on PATH (auto), or the embedded engine').choices(['auto', 'k6', 'embedded']).default('auto'))
    .addOption(
      new Option('--time-scale <s>', `multiply every duration (scenario stages, mock latency, limiter windows); 1 = real time`)
        .env('TIME_SCALE')
        .argParser(numberOption('--time-scale', MIN_TIME_SCALE, MAX_TIME_SCALE))
        .default(DEFAULT_TIME_SCALE),
    )
    .option('--target <url>', 'a running gateway (e.g. http://127.0.0.1:4020); default: start the mock and the gateway here')
    .option('--mock-url <url>', "the mock's URL, for the recovery scenario's outage when --target is given", 'http://127.0.0.1:4010')
    .addOption(new Option('--api-key <key>', "the gateway client's key").env('API_KEY').default('sk-ratelab-dev'))
    .addOption(new Option('--model <id>', "the model each request asks for (default: the profile's default model)").env('MODEL'))
    .option('--capacity <images/min>', "the target's sustainable images per minute at scale 1 (default: the started stack's tier limit)", numberOption('--capacity', 0.1, 1e7))
    .option('--tier <n>', "the started stack's upstream account tier", intOption('--tier', 0, 99), DEFAULT_TIER)
    .option('--profile <name|file>', "the started mock's profile", 'openai')
    .option('--seed <n>', "the started mock's seed", intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--config <gateway.yaml>', "the started gateway's config (or a limiter config)")
    .option('--threshold <metric=expr>', 'add a threshold, k6 grammar (repeatable), durations in production ms whatever the time scale: "http_req_duration=p(95)<60000"', parseThresholdFlag, [])
    .option('--out <dir>', 'where to write summary.json, timeseries.json and report.html (default results/<scenario>-<time>)')
    .option('--prometheus-port <port>', "serve the engine's live metrics with k6's remote-write names at /metrics", intOption('--prometheus-port', 0, 65535))
    .option('--allow-remote', 'allow a --target that is not on this machine (you must own it)', false)
    .option('--rate <images/min>', 'custom: arrivals per minute at scale 1 (open model, as k6 constant-arrival-rate)', numberOption('--rate', 0.01, 1e6))
    .option('--vus <n>', 'custom: VUs sending one request after another (closed model, as k6 constant-vus)', intOption('--vus', 1, 100_000))
    .option('--duration <duration>', 'custom: how long, in production time (10m)', durationOption('--duration'))
    .option('--mix <name|file>', `what the iterations send: a built-in request mix (${Object.keys(MIXES).join(', ')}) or a YAML/JSON mix file; k6 reads the same (MIX). A class's priority is sent with its client's key: API_KEY_HIGH, API_KEY_LOW, ... (the dev keys by default)`, DEFAULT_MIX)
    .option('--options <file>', "custom: k6 options (scenarios, thresholds; JSON or YAML) in production time, run at --time-scale by either engine")
    .option('--trace-ratio <r>', 'each request starts a W3C trace (traceparent); this share is flagged sampled, so a parent-based sampler downstream keeps it', numberOption('--trace-ratio', 0, 1), 1)
    .option('--instances <n>', 'split the test across n engines (k6 processes with --engine k6), each on its execution segment, against one target; their samples are merged into one summary and report', intOption('--instances', 1, 64), 1)
    .option('--execution-segment <from:to>', "run only this share of the test, as k6's flag (e.g. 0:1/2); what each of k6-operator's pods gets")
    .option('--execution-segment-sequence <points>', "the whole split the segment belongs to, as k6's flag (e.g. 0,1/2,1)")
    .option('--samples <file>', "write every metric sample in k6's JSON output format (k6 run --out json=), gzipped for .gz: what a split test's merge reads");
}

/** `replay <trace>`: the trace's arrivals (× --rate-factor) and classes, as a custom load in production time. */
function replayOfTrace(name: RunnableScenario, o: LoadtestCommandOptions): TraceReplay {
  const given = (['rate', 'vus', 'duration', 'options'] as const).filter((k) => o[k] !== undefined);
  if (name !== 'custom' || given.length > 0) throw new CliError(`Expected a trace's replay to be its own load, got it with ${given.length ? `\`--${given[0]}\`` : `the \`${name}\` scenario`}`);
  if (o.mixGiven) throw new CliError('Expected either a trace or `--mix`, got both (a trace brings its own request classes)');
  return replayOf(readTrace(o.trace!), { rateFactor: o.rateFactor });
}

function checkTarget(o: LoadtestCommandOptions): void {
  for (const [flag, url] of [['--target', o.target], ['--mock-url', o.mockUrl]] as const) {
    if (url === undefined) continue;
    try {
      new URL(url);
    } catch {
      throw new CliError(expectationMessage(flag, 'a URL like http://127.0.0.1:4020', url));
    }
    if (!o.allowRemote && !isLoopbackUrl(url)) throw new CliError(expectationMessage(flag, 'a loopback URL (127.0.0.1, ::1, localhost) unless --allow-remote is given', url));
  }
}

function haveK6(): boolean {
  return spawnSync('k6', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs the k6 script for the scenario with the same settings (k6's exit code is ours),
 * against `--target`, or against a mock and gateway started here for the run.
 */
async function runWithK6(name: RunnableScenario, o: LoadtestCommandOptions, outDir: string, custom: CustomLoad | undefined, mix: RequestMix): Promise<number> {
  let stack: RunningStack | undefined;
  let target = o.target;
  let mockUrl = o.mockUrl;
  let capacity = o.capacity;
  try {
    if (!target) {
      stack = await startStack({ requireAccess: true, profile: o.profile, tier: o.tier, timeScale: o.timeScale, seed: o.seed, logLevel: 'warn', ...(o.config ? { gatewayConfig: loadGatewayConfig(o.config) } : {}) });
      target = stack.gateway.url;
      mockUrl = stack.mock.url;
      capacity ??= stack.capacity;
    }
    const env = k6Env(o, outDir, custom, mix, { target, ...(mockUrl ? { mockUrl } : {}), ...(capacity ? { capacity } : {}), ...(stack ? { model: stack.model } : {}) });
    const child = spawn('k6', k6Args(name, o), { env, stdio: 'inherit' });
    return await new Promise<number>((done) => child.once('exit', (code) => done(code ?? 1)));
  } finally {
    await stack?.close();
  }
}

/** `--execution-segment` and its sequence, read as k6 reads them. */
function segmentOf(o: LoadtestCommandOptions): ExecutionTuple | undefined {
  if (o.executionSegment === undefined && o.executionSegmentSequence === undefined) return undefined;
  try {
    return new ExecutionTuple(o.executionSegment === undefined ? undefined : parseSegment(o.executionSegment), o.executionSegmentSequence === undefined ? undefined : parseSequence(o.executionSegmentSequence));
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** A built-in scenario or `custom`, or a message naming the nearest. */
export function runnableScenario(name: string): RunnableScenario {
  const runnable: readonly string[] = [...SCENARIO_NAMES, 'custom'];
  if (!runnable.includes(name)) throw new CliError(`${expectationMessage('<scenario>', `one of ${runnable.join(', ')}`, name)}.${suggestionText(name, runnable, 'scenarios')}`);
  return name as RunnableScenario;
}

export async function loadtestAction(name: string, o: LoadtestCommandOptions): Promise<number> {
  const scenarioName = runnableScenario(name);
  checkTarget(o);
  if (o.target) o = { ...o, timeScale: scaleForTarget({ value: o.timeScale, explicit: o.timeScaleGiven ?? true }, await targetTimeScale(o.target)) };
  const replay = o.trace === undefined ? undefined : replayOfTrace(scenarioName, o);
  const custom = replay ? { options: scaleOptions(replay.plan.options, o.timeScale), description: replay.plan.description } : customLoadOf(scenarioName, o);
  const mix = replay ? replay.mix : loadMix(o.mix);
  const priorityKeys = priorityKeysOf(process.env);
  const missing = missingPriorityKeys(mix, { key: o.apiKey, byPriority: priorityKeys });
  if (missing.length > 0) {
    const names = missing.map((p) => `\`API_KEY_${p.toUpperCase()}\``).join(', ');
    throw new CliError(`Expected ${names} in the environment (the key of the gateway client of each priority mix \`${mix.name}\` sends at), got nothing. With --api-key other than ${DEV_KEY}, a class's priority comes from its own client's key; without it the class would go at your key's priority`);
  }
  if (replay?.skipped) console.error(`  ${replay.skipped} traced requests left out: the gateway could not read them, so they have no class to send`);
  const outDir = o.out ?? join('results', `${scenarioName}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(outDir, { recursive: true });
  const engine = o.engine === 'auto' ? (haveK6() ? 'k6' : 'embedded') : o.engine;
  if (engine === 'k6' && o.threshold.length > 0) throw new CliError('Expected no `--threshold` with k6 (edit the thresholds in loadtests/scenarios.ts), got some');
  const segment = segmentOf(o);
  const thresholds = thresholdsOf(o.threshold, o.timeScale);
  if (o.instances > 1) return runInstances(scenarioName, o, outDir, custom, mix, engine, thresholds);
  if (engine === 'k6') return runWithK6(scenarioName, o, outDir, custom, mix);

  const registry = o.prometheusPort !== undefined ? new Registry() : undefined;
  const server = registry
    ? createServer((_req, res) => void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text)))
    : undefined;
  if (server) await new Promise<void>((ok) => server.listen(o.prometheusPort, '127.0.0.1', ok));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  const progress = progressReporter(scenarioName, o.timeScale);
  const settings: LoadtestSettings = {
    scenario: scenarioName,
    mix,
    ...(custom ? { custom } : {}),
    timeScale: o.timeScale,
    capacity: o.capacity,
    target: o.target,
    mockUrl: o.target ? o.mockUrl : undefined,
    apiKey: o.apiKey,
    priorityKeys,
    model: o.model,
    tier: o.tier,
    profile: o.profile,
    seed: o.seed,
    gatewayConfig: o.config ? loadGatewayConfig(o.config) : undefined,
    thresholds,
    outDir,
    registry,
    signal: stop.signal,
    onTick: progress.tick,
    traceRatio: o.traceRatio,
    ...(segment ? { segment } : {}),
    ...(o.samples ? { samples: o.samples } : {}),
    onWarmedUp: (w) => {
      if (w.iterations > 0) process.stderr.write(`${describeWarmUp(w)}\n`);
    },
  };
  try {
    const outcome = await runLoadtest(settings);
    progress.done();
    console.log(textSummary(outcome.summary, `ratelab ${scenarioName} (embedded engine${segment?.segment ? `, execution segment ${segment.label}` : ''}, time scale ${o.timeScale}, capacity ${outcome.capacity} images/min, mix ${mix.name})`, o.timeScale));
    console.log(`  Verdict: ${String((outcome.summary.ratelab as { verdict?: string } | undefined)?.verdict)}\n`);
    const slowest = outcome.summary.ratelab.slowest ?? [];
    // Worth a look only where the traces went somewhere.
    if (slowest.length > 0 && tracingWanted(settings.gatewayConfig?.otel)) {
      console.log('  Slowest sampled requests, by trace id (Jaeger / Tempo):');
      for (const [, line] of slowestFacts(slowest, o.timeScale)) console.log(`    ${line}`);
      console.log('');
    }
    console.log(`  wrote ${outcome.files.summary}, ${outcome.files.timeseries}, ${outcome.files.report}`);
    if (outcome.thresholdsFailed) console.log(`  some thresholds failed: exit ${THRESHOLDS_FAILED_EXIT}`);
    return outcome.thresholdsFailed ? THRESHOLDS_FAILED_EXIT : 0;
  } finally {
    progress.done();
    process.removeListener('SIGINT', onSignal);
    server?.close();
  }
}

export function registerLoadtestCommand(program: Command): void {
  loadtestOptions(program.command('loadtest').argument('<scenario>', `${SCENARIO_NAMES.join(' | ')} | custom (with --rate or --vus, and --duration; or --options <k6 options file>)`).description('Run a load test scenario (embedded engine, or k6 when installed) and write summary.json, timeseries.json and report.html')).action(
    async (name: string, o: LoadtestCommandOptions, cmd: Command) => {
      process.exitCode = await loadtestAction(name, { ...o, timeScaleGiven: cmd.getOptionValueSource('timeScale') !== 'default' });
    },
  );
  loadtestOptions(program.command('replay').argument('<trace>', "a gateway trace (ratelab gateway --trace): its arrivals and request classes are the load"))
    .description("Replay a gateway trace against the stack (or --target): its arrival curve in production time (× --rate-factor), its requests' classes in their order")
    .option('--rate-factor <k>', 'what if traffic were k× (every arrival rate × k, shape and classes kept)', numberOption('--rate-factor', 0.01, 1000))
    .action(async (trace: string, o: LoadtestCommandOptions, cmd: Command) => {
      process.exitCode = await loadtestAction('custom', { ...o, trace, mixGiven: cmd.getOptionValueSource('mix') === 'cli', timeScaleGiven: cmd.getOptionValueSource('timeScale') !== 'default' });
    });
}
