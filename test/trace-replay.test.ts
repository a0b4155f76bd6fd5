import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIXES } from '../loadtests/mixes.ts';
import { runLoadtest } from '../src/cli/loadtest-run.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import type { RunSummary } from '../src/report/run-facts.ts';
import { runSim } from '../src/sim/run-sim.ts';
import { readTrace, replayOf } from '../src/sim/trace-replay.ts';

/**
 * Record, then replay: a load test through the gateway writes a trace; the trace replays in
 * the simulator (production time) and, through `ratelab replay`, against a fresh stack at
 * ×2 — the same arrivals and classes, and twice as many.
 */
describe('trace → replay', () => {
  it('replays a recorded trace in the sim and with `ratelab replay --rate-factor 2` against a stack', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-record-'));
    const trace = join(dir, 'trace.jsonl');
    // Concurrency fixed above the mix's ~27 in flight: the adaptive default's climb from 8 refused 6 of 120 as
    // deadline_unmeetable on a busy clean-clone CI run, and this test is about recording and replaying, not that climb.
    // Recorded at 0.02: with 64 in flight at 0.01 the one process (engine, gateway, mock) fell 0.2 s behind its own
    // schedule, which reads as 24 s more span; the replay below runs at 0.01, as a trace replays at any scale.
    const limiter = { concurrency: { mode: 'fixed' as const, limit: 64 } };
    const recorded = await runLoadtest({
      scenario: 'custom', custom: { rate: 40, durationMs: 180_000 }, mix: MIXES.default!, timeScale: 0.02, tier: 3, profile: 'openai', seed: 7,
      outDir: join(dir, 'run'), gatewayConfig: parseGatewayConfig({ limiter, trace: { path: trace } }),
    });
    const lines = readTrace(trace);
    // A line for every request that reached the gateway: 40 a minute for 3 minutes, less any the engine dropped (one the
    // engine gave up on at gracefulStop on a busy machine is still traced: the gateway saw it).
    expect(lines).toHaveLength(120 - recorded.summary.ratelab.droppedIterations);
    expect(lines.length).toBeGreaterThanOrEqual(recorded.summary.ratelab.requests);
    expect(lines.every((l) => l.timeScale === 0.02)).toBe(true);

    const replay = replayOf(lines);
    // 3 minutes of production time, whatever the scale it was recorded at.
    expect(replay.spanMs).toBeGreaterThan(170_000);
    expect(replay.spanMs).toBeLessThan(181_000);
    expect(new Set(replay.mix.classes.map((c) => c.endpoint))).toEqual(new Set(['generations', 'edits']));
    expect(replay.mix.classes.some((c) => c.stream)).toBe(true);

    const sim = await runSim({ scenario: replay.plan, mix: replay.mix, profile: 'openai', tier: 3, seed: 1 });
    expect(sim.summary.ratelab.requests).toBe(lines.length);
    // Under the account's capacity both deliver every image.
    expect(sim.summary.ratelab.images).toBe(sim.summary.ratelab.requests);
    expect(recorded.summary.ratelab.images).toBeGreaterThan(0.95 * lines.length);

    // Calibrate on the same trace: a table per class, and a profile the simulator replays the trace with.
    const profileFile = join(dir, 'calibrated.yaml');
    const cal = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = execFile(process.execPath, ['bin/ratelab.js', 'calibrate', trace, '--out', profileFile, '--min-samples', '10'], { encoding: 'utf8' }, (_e, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
    });
    expect(cal.code, cal.stderr).toBe(0);
    expect(cal.stdout).toMatch(/\| gen-medium-1024x1024-gpt-image-1\.5 \| \d+ \| [\d.ms]+ → [\d.ms]+ \([+-]\d+ %\)/);
    expect(cal.stdout).toMatch(/fitted: reference P50 .*typical error \+\d+ %/);
    const calibrated = await runSim({ scenario: replay.plan, mix: replay.mix, profile: profileFile, tier: 3, seed: 1 });
    expect(calibrated.summary.ratelab.requests).toBe(lines.length);

    const out = join(dir, 'replay');
    const run = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(process.execPath, ['bin/ratelab.js', 'replay', trace, '--rate-factor', '2', '--time-scale', '0.01', '--engine', 'embedded', '--out', out], { encoding: 'utf8' }, (_e, _o, stderr) => done({ code: child.exitCode, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    const doubled = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
    // Twice the arrivals (the schedule itself is exact: src/sim/trace-replay.test.ts); at ×2 a few may still wait in the gateway past gracefulStop, and are not answers.
    expect(doubled.ratelab.requests).toBeLessThanOrEqual(2 * lines.length);
    expect(doubled.ratelab.requests).toBeGreaterThan(1.9 * lines.length);
    expect(doubled.ratelab.droppedIterations).toBe(0);
    expect(doubled.ratelab.mix).toBe('trace');
    expect(doubled.ratelab.description).toMatch(/^replay of \d+ traced requests over (2\.9|3\.0) min at ×2$/);
  });

  it('refuses a trace with --mix, and --rate-factor without a trace', () => {
    const sim = (args: string[]) =>
      new Promise<string>((done) => execFile(process.execPath, ['bin/ratelab.js', ...args], { encoding: 'utf8' }, (_e, _o, stderr) => done(stderr)));
    return Promise.all([
      expect(sim(['sim', '--rate-factor', '2'])).resolves.toContain('Expected `--rate-factor` only with `--trace`, got it without one'),
      expect(sim(['sim', '--trace', 'x.jsonl', '--mix', 'default'])).resolves.toContain('Expected either `--trace` or `--mix`, got both'),
      expect(sim(['replay', 'missing.jsonl'])).resolves.toContain('Cannot read trace `missing.jsonl`'),
    ]);
  });
});
