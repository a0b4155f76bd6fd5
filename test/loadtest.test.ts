import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_NAMES } from '../loadtests/scenarios.ts';
import { runLoadtest, type LoadtestOutcome } from '../src/cli/loadtest-run.ts';
import { loadOptionsFile } from '../src/cli/options-file.ts';
import type { WarmUpResult } from '../src/loadgen/warm-up.ts';
import { MIXES } from '../loadtests/mixes.ts';
import type { ClassFigures } from '../src/report/run-facts.ts';
import { startStack } from '../src/cli/start-stack.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import type { TraceLine } from '../src/gateway/trace-line.ts';
import { readTrace } from '../src/sim/trace-replay.ts';
import type { SummaryData } from '../src/report/k6-summary.ts';
import { noChromium, renderReport } from './support/rendered-report.ts';

const SCALE = 0.01;
const outcomes = new Map<string, LoadtestOutcome>();

// `day` is 24 h: 14 minutes even at this scale; the simulator's tests and bench run it.
const SHORT_SCENARIOS = SCENARIO_NAMES.filter((name) => name !== 'day');

describe('the four short scenarios end to end (embedded engine, mock + gateway, small time scale)', () => {
  for (const name of SHORT_SCENARIOS) {
    it(`${name}: runs, writes summary.json, timeseries.json and report.html, passes its thresholds`, { timeout: 90_000 }, async () => {
      const outDir = mkdtempSync(join(tmpdir(), `ratelab-${name}-`));
      const outcome = await runLoadtest({ scenario: name, timeScale: SCALE, tier: 3, profile: 'openai', seed: 7, outDir });
      outcomes.set(name, outcome);
      for (const file of Object.values(outcome.files)) expect(existsSync(file)).toBe(true);
      const summary = JSON.parse(readFileSync(outcome.files.summary, 'utf8')) as SummaryData & { ratelab: Record<string, number> };
      // k6's handleSummary fields for what it reports.
      expect(summary.state.testRunDurationMs).toBeGreaterThan(0);
      expect(summary.options.summaryTrendStats).toContain('p(95)');
      // A verdict in production time, in summary.json and first on the report.
      const said = (summary.ratelab as unknown as { verdict: string }).verdict;
      expect(said).toMatch(/^The account \(capacity 50 images\/min\) delivered \d+ of \d+ requested images/);
      expect(readFileSync(outcome.files.report, 'utf8')).toContain(`<strong>Verdict.</strong> ${said.replace(/'/g, '&#39;')}`);
      // Both checks, by name: an image (a refusal is not one), and an answer a client can act on.
      expect(summary.root_group.checks.map((c) => c.name)).toEqual(['an image', 'an image or a clear error']);
      const [image, clear] = summary.root_group.checks;
      expect(clear!.fails).toBe(0);
      // A refused request failed: http_req_failed and the image check count it.
      const refused = summary.metrics.ratelab_gateway_refusals!.values.passes!;
      expect(image!.fails).toBeGreaterThanOrEqual(refused);
      expect(summary.metrics.http_req_failed!.values.passes).toBeGreaterThanOrEqual(refused);
      expect(summary.metrics.http_reqs).toMatchObject({ type: 'counter', contains: 'default', values: { count: expect.any(Number), rate: expect.any(Number) } });
      expect(summary.metrics.http_req_duration).toMatchObject({ type: 'trend', contains: 'time', values: { avg: expect.any(Number), 'p(95)': expect.any(Number), med: expect.any(Number) } });
      expect(summary.metrics.http_req_failed).toMatchObject({ type: 'rate', values: { rate: expect.any(Number), passes: expect.any(Number), fails: expect.any(Number) } });
      expect(summary.metrics.vus_max).toMatchObject({ type: 'gauge', values: { value: expect.any(Number) } });
      expect(summary.metrics.ratelab_provider_429!.thresholds).toEqual({ 'rate<0.01': { ok: true } });
      // The planned arrivals were all made (sent or dropped), and nothing vanished.
      const planned = { steady: 350, peak: 740, ramp: 800, recovery: 350 }[name];
      expect(summary.metrics.iterations!.values.count! + (summary.metrics.dropped_iterations?.values.count ?? 0)).toBe(planned + (name === 'recovery' ? 1 : 0));
      expect(summary.ratelab.lostRequests).toBe(0);
      expect(outcome.thresholdsFailed).toBe(false);
      const series = JSON.parse(readFileSync(outcome.files.timeseries, 'utf8')) as { points: { completed: number; queueDepth?: number; circuitState?: number }[] };
      expect(series.points.length).toBeGreaterThan(20);
      expect(series.points.some((p) => p.completed > 0)).toBe(true);
      if (name === 'recovery') {
        // The outage shows: refusals during it, and recovery after it.
        expect(summary.ratelab.gatewayRefusalRate).toBeGreaterThan(0.05);
        expect(summary.ratelab.timeToRecoverS).toBeGreaterThanOrEqual(0);
        // The outage answers 503 "engine overloaded": the circuit opens on it and closes after,
        // so fewer than 20 attempts of the 2-minute outage reach the dead upstream.
        const circuit = series.points.filter((p) => p.circuitState !== undefined);
        expect(circuit.some((p) => p.circuitState === 2)).toBe(true);
        expect(circuit.at(-1)!.circuitState).toBe(0);
        expect((summary.ratelab.provider as unknown as { byStatus: Record<string, number> }).byStatus['503'] ?? 0).toBeLessThan(20);
      }
      if (name === 'peak') expect(series.points.some((p) => (p.queueDepth ?? 0) > 10)).toBe(true);
    });
  }

  it.skipIf(noChromium)('report.html reads in production time in headless Chromium: verdict, units, capacity line, refusals by reason, readable legends', { timeout: 60_000 }, async () => {
    // The peak run above, or (when this test runs alone) a quick one of its own.
    const outcome = outcomes.get('peak') ?? (await runLoadtest({ scenario: 'peak', timeScale: 0.005, tier: 3, profile: 'openai', seed: 7, outDir: mkdtempSync(join(tmpdir(), 'ratelab-peak-')) }));
    const { text, charts } = await renderReport(outcome.files.report);
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'latency', 'first-image', 'rejections', 'queue', 'concurrency']);
    for (const c of charts) {
      expect(c.points, c.id).toBeGreaterThan(20);
      expect(c.values, c.id).toBeGreaterThan(10);
      expect(c.inked, c.id).toBeGreaterThan(500);
      // Scenario time: the peak's 10 minutes and its drain, not the seconds it took at this scale.
      expect(c.xMax, c.id).toBeGreaterThanOrEqual(10);
      expect(c.xMax, c.id).toBeLessThan(20);
      // A static page's legend names its series; it has no hovered value to show.
      expect(c.legend, c.id).not.toMatch(/--|Value/);
    }
    const by = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(by.throughput!.legend).toContain('account capacity 50 images/min');
    // Offered load in production units: the peak offers 2× the account at its top (100 requests/min), not the 17/s it runs at.
    const offered = by.throughput!.series.findIndex((s) => s.label === 'offered requests');
    expect(offered).toBeGreaterThanOrEqual(0);
    // Every latency tick carries its unit.
    expect(by.latency!.yTicks.length).toBeGreaterThan(2);
    for (const tick of by.latency!.yTicks) expect(tick).toMatch(/^\d+(\.\d+)? (ms|s|min)$/);
    for (const tick of by.rejections!.yTicks) expect(tick).toMatch(/^\d+(\.\d+)? %$/);
    const summary = outcome.summary.ratelab as { verdict: string; images: number; requests: number; refusalsByReason: Record<string, number>; gatewayRefusalRate: number };
    expect(text).toContain(`Verdict. ${summary.verdict}`);
    expect(text).toContain(`images delivered\t${summary.images} of ${summary.requests} requested`);
    expect(text).toContain('Every time and rate is production time (scale 1): the run was time-scaled by');
    expect(text).toContain('x: scenario time (min, production)');
    expect(text).toContain('Gateway refusals by reason');
    // The peak overloads the account: the refusals are there by reason and add up to the rate.
    const refused = Object.values(summary.refusalsByReason).reduce((a, n) => a + n, 0);
    expect(refused).toBe(Math.round(summary.gatewayRefusalRate * summary.requests));
    for (const reason of Object.keys(summary.refusalsByReason)) expect(text).toContain(reason);
    // Thresholds in production time with units: no bare scaled milliseconds.
    expect(text).toMatch(/p\(95\)<\d+(\.\d+)?(m|s|ms)\b/);
    expect(text).toContain('ratelab_provider_429');
  });
});

describe('ratelab loadtest (CLI)', () => {
  it('exits 99 when a threshold fails, after writing its outputs', { timeout: 90_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'ratelab-fail-'));
    // 1 s in production: no image comes that fast. Run at scale 0.005, it is 5 ms as run.
    const r = spawnSync(process.execPath, ['bin/ratelab.js', 'loadtest', 'steady', '--time-scale', '0.005', '--threshold', 'http_req_duration=p(95)<1000', '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(99);
    expect(r.stdout).toContain("✗ 'p(95)<1.00s'");
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SummaryData;
    expect(summary.metrics.http_req_duration!.thresholds).toEqual({ 'p(95)<5': { ok: false } });
  });

  it('with k6 on PATH (auto), runs the k6 script against a stack it starts, with the settings in the environment, and passes k6\'s exit code on', { timeout: 60_000 }, () => {
    const bin = mkdtempSync(join(tmpdir(), 'ratelab-fake-k6-'));
    const out = mkdtempSync(join(tmpdir(), 'ratelab-k6-out-'));
    // A stand-in for k6 (none is installed here): it checks the gateway answers, records what it was given, and "fails a threshold".
    writeFileSync(
      join(bin, 'k6'),
      [
        '#!/usr/bin/env node',
        "const [cmd, ...rest] = process.argv.slice(2);",
        "if (cmd === 'version') { console.log('k6 v1.0.0 (stand-in)'); process.exit(0); }",
        "const e = process.env;",
        "fetch(e.BASE_URL + '/healthz').then((r) => {",
        "  const options = e.OPTIONS_FILE ? JSON.parse(require('fs').readFileSync(e.OPTIONS_FILE, 'utf8')) : undefined;",
        "  require('fs').writeFileSync(e.SUMMARY_PATH, JSON.stringify({ cmd, rest, healthy: r.ok, TIME_SCALE: e.TIME_SCALE, CAPACITY: e.CAPACITY, API_KEY: e.API_KEY, MOCK: !!e.MOCK_URL, NO_USAGE: e.K6_NO_USAGE_REPORT, options }));",
        '  process.exit(99);',
        '});',
      ].join('\n'),
    );
    chmodSync(join(bin, 'k6'), 0o755);
    const r = spawnSync(process.execPath, ['bin/ratelab.js', 'loadtest', 'recovery', '--out', out], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(99);
    const seen = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(seen).toMatchObject({ cmd: 'run', healthy: true, TIME_SCALE: '0.1', CAPACITY: '50', API_KEY: 'sk-ratelab-dev', MOCK: true, NO_USAGE: 'true' });
    expect((seen.rest as string[])[0]).toMatch(/loadtests\/recovery\.ts$/);
    // custom --options: the k6 script gets the options as run, in a file beside the summary.
    const file = join(out, 'mine.json');
    writeFileSync(file, JSON.stringify({ scenarios: { mine: { executor: 'constant-vus', vus: 2, duration: '10m' } }, thresholds: { http_req_duration: ['p(95)<60000'] } }));
    const custom = spawnSync(process.execPath, ['bin/ratelab.js', 'loadtest', 'custom', '--options', file, '--out', out], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(custom.status, custom.stderr).toBe(99);
    const given = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { rest: string[]; options: unknown };
    expect(given.rest[0]).toMatch(/loadtests\/custom\.ts$/);
    expect(given.options).toEqual({ scenarios: { mine: { executor: 'constant-vus', vus: 2, duration: '60000ms' } }, thresholds: { http_req_duration: ['p(95)<6000'] } });
  });

  it('custom: your own rate for your own duration, in production time, through the same pipeline', { timeout: 90_000 }, async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'ratelab-custom-'));
    // 30 images/min for 5 minutes: 150 arrivals, at 0.01 in 3 s plus the drain.
    const warmed: WarmUpResult[] = [];
    const outcome = await runLoadtest({ scenario: 'custom', custom: { rate: 30, durationMs: 300_000 }, timeScale: 0.01, tier: 3, profile: 'openai', seed: 7, outDir, thresholds: { 'http_req_duration{expected_response:true}': ['p(95)<1'] }, onWarmedUp: (w) => warmed.push(w) });
    expect(outcome.plan.description).toBe('30 images/min for 5 min');
    // 50 arrivals/s on the run's clock: under the engine's warm-up rate, so the pool's 130 starting connections are only opened.
    expect(warmed).toMatchObject([{ iterations: 0, connections: 130 }]);
    expect(outcome.plan.options.scenarios.custom).toMatchObject({ executor: 'constant-arrival-rate', rate: 300, timeUnit: '6000ms', duration: '3000ms' });
    const summary = JSON.parse(readFileSync(outcome.files.summary, 'utf8')) as SummaryData;
    expect(summary.metrics.http_reqs!.values.count! + (summary.metrics.dropped_iterations?.values.count ?? 0)).toBe(150);
    expect(summary.metrics.checks!.values.rate).toBeGreaterThan(0.99);
    expect(outcome.thresholdsFailed).toBe(true);
    // The same load as VUs: a closed model for 1 minute.
    const vus = await runLoadtest({ scenario: 'custom', custom: { vus: 3, durationMs: 60_000 }, timeScale: 0.01, tier: 3, profile: 'openai', seed: 7, outDir: mkdtempSync(join(tmpdir(), 'ratelab-custom-vus-')) });
    expect(vus.plan.options.scenarios.custom).toMatchObject({ executor: 'constant-vus', vus: 3, duration: '600ms' });
    expect(vus.summary.metrics.http_reqs!.values.count).toBeGreaterThan(0);
    expect(vus.thresholdsFailed).toBe(false);
    // A k6 options file in production time: 30 images/min for 2 minutes and 2 VUs for 1 minute, with its own threshold.
    const file = join(outDir, 'options.yaml');
    writeFileSync(
      file,
      [
        'scenarios:',
        '  open: { executor: constant-arrival-rate, rate: 30, timeUnit: 1m, duration: 2m, preAllocatedVUs: 40 }',
        '  closed: { executor: constant-vus, vus: 2, duration: 1m, startTime: 30s }',
        'thresholds:',
        "  'http_req_duration{status:200}': ['p(95)<600000']",
      ].join('\n'),
    );
    const fromFile = await runLoadtest({ scenario: 'custom', custom: loadOptionsFile(file, 0.01), timeScale: 0.01, tier: 3, profile: 'openai', seed: 7, outDir: mkdtempSync(join(tmpdir(), 'ratelab-custom-options-')) });
    expect(fromFile.plan.description).toBe(`k6 options from ${file}: 2 scenarios (open, closed)`);
    const counts = fromFile.summary.metrics;
    expect(counts['http_reqs']!.values.count!).toBeGreaterThan(60);
    expect(counts['http_req_duration{status:200}']!.thresholds).toEqual({ 'p(95)<6000': { ok: true } });
    expect(fromFile.thresholdsFailed).toBe(false);
  });

  it('--mix: sends each class of the mix through the gateway — multipart edits, streams read event by event — with figures per class', { timeout: 90_000 }, async () => {
    // Concurrency fixed above what the mix needs (40/min × its ~40 s mean ≈ 27 in flight): this test is about what the mix
    // sends and reads, and the adaptive default's slow climb from 8 refused one edit as deadline_unmeetable on a busy CI machine.
    const limiter = { concurrency: { mode: 'fixed' as const, limit: 64 } };
    const outcome = await runLoadtest({ scenario: 'custom', custom: { rate: 40, durationMs: 180_000 }, mix: MIXES.default!, timeScale: 0.01, tier: 3, profile: 'openai', seed: 7, outDir: mkdtempSync(join(tmpdir(), 'ratelab-mix-')), gatewayConfig: parseGatewayConfig({ limiter }) });
    const summary = JSON.parse(readFileSync(outcome.files.summary, 'utf8')) as SummaryData & { ratelab: { mix: string; requests: number; classes: ClassFigures[] } };
    expect(summary.ratelab.mix).toBe('default');
    const byName = new Map(summary.ratelab.classes.map((c) => [c.class, c]));
    expect([...byName.keys()]).toEqual(MIXES.default!.classes.map((c) => c.name));
    expect(summary.ratelab.classes.reduce((a, c) => a + c.requests, 0)).toBe(summary.ratelab.requests);
    // Every answer an image: the mock accepted every edit's form and references, and every stream ended in its image.
    expect(summary.metrics['checks{check:an image}']!.values.rate).toBe(1);
    for (const c of summary.ratelab.classes) expect(c.images, c.class).toBe(c.requests);
    expect(byName.get('edit-medium')!.images + byName.get('edit-high')!.images).toBeGreaterThan(0);
    const preview = byName.get('gen-preview')!;
    expect(preview.images).toBeGreaterThan(0);
    expect(preview.firstImageP95Ms!).toBeLessThan(preview.p95Ms!);
    // The time series carries the time to first image for the report's chart.
    const withFirst = outcome.points.filter((p) => p.firstImage);
    expect(withFirst.length).toBeGreaterThan(outcome.points.length / 2);
    for (const p of withFirst) expect(p.firstImage!.p95).toBeGreaterThanOrEqual(p.firstImage!.p50);
    const report = readFileSync(outcome.files.report, 'utf8');
    for (const c of MIXES.default!.classes) expect(report).toContain(`<tr><td><code>${c.name}</code></td><td>${c.weight} %</td><td>normal</td><td>${byName.get(c.name)!.requests}</td>`);
    // Edits send their references: far more bytes than generations' JSON.
    expect(summary.metrics.data_sent!.values.count!).toBeGreaterThan(byName.get('edit-medium')!.requests * 3_000_000);
  });

  it("--mix priorities: each class goes with its priority's client key, the gateway queues it at that priority, and its trace says so", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-priorities-'));
    const trace = join(dir, 'trace.jsonl');
    // 4 in flight against ~15 the load needs: a queue builds, and the gateway serves it best priority first.
    const limiter = { concurrency: { mode: 'fixed' as const, limit: 4 } };
    const outcome = await runLoadtest({ scenario: 'custom', custom: { rate: 30, durationMs: 180_000 }, mix: MIXES.priorities!, timeScale: 0.01, tier: 3, profile: 'openai', seed: 7, outDir: join(dir, 'run'), gatewayConfig: parseGatewayConfig({ limiter, trace: { path: trace } }) });
    const lines = readTrace(trace);
    expect(lines.length).toBeGreaterThanOrEqual(85);
    // Streams and edits are only the paid plan's (high); plain generations are the paid plan's (normal) or the free plan's (low).
    const clientsOf = (pick: (l: TraceLine) => boolean) => new Set(lines.filter(pick).map((l) => `${l.client}:${l.priority}`));
    expect(clientsOf((l) => l.stream === true || l.endpoint === 'edits')).toEqual(new Set(['dev-high:high']));
    expect(clientsOf((l) => l.stream === false && l.endpoint === 'generations')).toEqual(new Set(['dev:normal', 'dev-low:low']));
    // Where the time went: high waited least, low most (mean gateway queue time of each priority's answered requests).
    const meanQueue = (p: string) => {
      const q = lines.filter((l) => l.priority === p && l.queueMs !== null).map((l) => l.queueMs!);
      return q.reduce((a, b) => a + b, 0) / q.length;
    };
    expect(meanQueue('high')).toBeLessThan(meanQueue('normal'));
    expect(meanQueue('normal')).toBeLessThan(meanQueue('low'));
    const classes = (outcome.summary as SummaryData & { ratelab: { classes: ClassFigures[] } }).ratelab.classes;
    expect(classes.map((c) => [c.class, c.priority])).toEqual(MIXES.priorities!.classes.map((c) => [c.name, c.priority ?? 'normal']));
    expect(readFileSync(outcome.files.report, 'utf8')).toContain('<tr><td><code>paid-preview</code></td><td>30 %</td><td>high</td>');
  });

  it('refuses a mix with priorities under a key of your own without a key for each priority, naming the variables', () => {
    const run = spawnSync(process.execPath, ['bin/ratelab.js', 'loadtest', 'peak', '--mix', 'priorities', '--engine', 'embedded'], { encoding: 'utf8', env: { ...process.env, API_KEY: 'sk-my-app', API_KEY_HIGH: 'sk-my-app-high' } });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Expected `API_KEY_LOW` in the environment (the key of the gateway client of each priority mix `priorities` sends at), got nothing');
  });

  it("--target: runs at the target's time scale unless told otherwise, and refuses a scale that differs from it", { timeout: 60_000 }, async () => {
    const stack = await startStack({ profile: 'openai', tier: 3, timeScale: 0.01, seed: 7, logLevel: 'warn' });
    const { TIME_SCALE: _, ...env } = process.env;
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, ['bin/ratelab.js', 'loadtest', ...args], { encoding: 'utf8', env }, (error, stdout, stderr) =>
          done({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    try {
      const out = mkdtempSync(join(tmpdir(), 'ratelab-target-'));
      // No --time-scale: the gateway's 0.01, so 1 minute of 30 images/min takes 0.6 s.
      const run = await cli('custom', '--rate', '30', '--duration', '1m', '--engine', 'embedded', '--target', stack.gateway.url, '--capacity', '50', '--out', out);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('time scale 0.01');
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SummaryData & { ratelab: { timeScale: number; requests: number } };
      expect(summary.ratelab.timeScale).toBe(0.01);
      expect(summary.ratelab.requests).toBe(30);
      const mismatch = await cli('custom', '--rate', '30', '--duration', '1m', '--engine', 'embedded', '--target', stack.gateway.url, '--time-scale', '0.1');
      expect(mismatch.status).toBe(2);
      expect(mismatch.stderr).toContain("Expected `--time-scale` to be the target's time scale, 0.01 (its /healthz says so), got `0.1` (number)");
    } finally {
      await stack.close();
    }
    const gone = await cli('steady', '--engine', 'embedded', '--target', stack.gateway.url);
    expect(gone.status).toBe(2);
    expect(gone.stderr).toMatch(/Expected `--target` to answer GET http:\/\/127\.0\.0\.1:\d+\/healthz, got ECONNREFUSED/);
  });

  it('names the problem for a bad scenario, threshold or target (exit 2)', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/ratelab.js', 'loadtest', ...args], { encoding: 'utf8' });
    expect(run('peek').stderr).toContain('Expected `<scenario>` to be one of steady, peak, ramp, recovery, day, custom, got `peek` (string). Did you mean `peak`?');
    expect(run('custom', '--duration', '5m').stderr).toContain('Expected exactly one of `--rate` (images/min) and `--vus` for `custom`, got neither');
    expect(run('custom', '--rate', '30').stderr).toContain('Expected `--duration` for `custom` (production time, e.g. 10m), got nothing');
    expect(run('peak', '--vus', '3').stderr).toContain('Expected `--vus` only with the `custom` scenario, got it with `peak`');
    expect(run('peak', '--threshold', 'p95<1').stderr).toContain('Expected `--threshold` to be metric=expression');
    const remote = run('peak', '--target', 'http://10.0.0.1:4020');
    expect(remote.status).toBe(2);
    expect(remote.stderr).toContain('Expected `--target` to be a loopback URL');
  });
});

describe('ratelab compare', () => {
  it("reproduces the seed's story at the peak: no limiter → a 429 storm; adaptive → no 429s and more images delivered", { timeout: 120_000 }, async () => {
    const { runCompare } = await import('../src/cli/compare-command.ts');
    const out = mkdtempSync(join(tmpdir(), 'ratelab-compare-'));
    const { rows } = await runCompare('peak', { timeScale: SCALE, tier: 3, profile: 'openai', seed: 3 }, out);
    const by = Object.fromEntries(rows.map((r) => [r.strategy, r]));
    console.log(rows.map((r) => `${r.strategy}: delivered ${(100 * r.delivered).toFixed(1)} %, 429 at provider ${(100 * (r.providerSide429Rate ?? 0)).toFixed(1)} %, to clients ${(100 * r.provider429Rate).toFixed(1)} %`).join('; '));
    expect(by.none!.providerSide429Rate).toBeGreaterThanOrEqual(0.3);
    expect(by.fixed!.provider429Rate).toBeGreaterThan(0.1);
    expect(by.adaptive!.provider429Rate).toBeLessThan(0.02);
    expect(by.adaptive!.providerSide429Rate).toBeLessThan(0.02);
    expect(by.adaptive!.delivered).toBeGreaterThan(by.none!.delivered);
    for (const r of rows) expect(r.lost).toBe(0);
    expect(existsSync(join(out, 'compare.json'))).toBe(true);
    if (noChromium) return;
    // The report: the side-by-side table first, in production time; one colour per strategy on every chart;
    // the strategy without a gateway has no queue or concurrency lines.
    const { text, charts } = await renderReport(join(out, 'report.html'));
    expect(text.indexOf('strategy\timages delivered')).toBeGreaterThan(-1);
    expect(text.indexOf('strategy\timages delivered')).toBeLessThan(text.indexOf('Thresholds'));
    for (const r of rows) expect(text).toContain(`${r.strategy}\t${r.images} of ${r.requests}`);
    expect(text).toContain("none = the openai SDK's default retries, whose backoff (0.5–8 s) is not time-scaled");
    const colour = new Map<string, Set<string>>();
    for (const c of charts) {
      for (const s of c.series) {
        const strategy = /^(none|fixed|adaptive) · /.exec(s.label)?.[1];
        if (strategy) colour.set(strategy, (colour.get(strategy) ?? new Set()).add(s.stroke));
      }
    }
    expect([...colour.keys()].sort()).toEqual(['adaptive', 'fixed', 'none']);
    for (const strokes of colour.values()) expect(strokes.size).toBe(1);
    expect(new Set([...colour.values()].map((s) => [...s][0])).size).toBe(3);
    const queue = charts.find((c) => c.id === 'queue')!;
    expect(queue.series.map((s) => s.label)).toEqual(['fixed · queued', 'adaptive · queued']);
    expect(charts.find((c) => c.id === 'concurrency')!.series.some((s) => s.label.startsWith('none'))).toBe(false);
  });
});
