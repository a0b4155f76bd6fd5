import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RequestMix } from '../loadtests/mixes.ts';
import { runLoadtest } from '../src/cli/loadtest-run.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import type { ClassFigures, RunSummary } from '../src/report/run-facts.ts';
import { calibrate } from '../src/sim/calibrate.ts';
import { runSim } from '../src/sim/run-sim.ts';
import { readTrace, replayOf } from '../src/sim/trace-replay.ts';

/** The provider whose latency the loop must find again (production time). */
const KNOWN = { p50: 15_000, p95: 40_000, p99: 60_000, fixedShare: 0.5, perInputImage: 0.3 };

/**
 * Named as the trace names them (`gen-low-1024x1024-stream2-webp-…`), so the recording's and
 * the replays' classes pair by prefix. Two classes of 1 500 requests each, over 40 minutes. A per-class P95 of n answers moves by
 * about √(0.05·0.95/n) ÷ φ(1.645) × σ from one run of a provider to the next (σ ≈ 0.6 for
 * these latencies): ±14 % at 150 answers, ±4.5 % at 750; below a few hundred, two honest runs
 * of one provider already disagree by more than the 10 % the loop is held to. Goodput counts
 * the drain after the last arrival, which ends with the slowest of the last minute's
 * requests: ±50 s of it is ±8 % of a 10-minute run, ±4 % of a 20-minute one. 40 minutes, not 20:
 * calibrate fits one latency shape to both classes, so its fit of each class's P95 is off by
 * the two samples' difference in shape; at 750 a class that came out 4.5, 5.7 and 5.7 % off
 * (against the 5 % held below) in 10 runs, so twice the answers (noise ÷ √2).
 */
const MIX: RequestMix = {
  name: 'loop',
  description: 'streamed previews and edits of a small photo',
  classes: [
    { name: 'gen-low', weight: 1, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 1, format: 'webp', stream: true, partialImages: 2 },
    { name: 'edit-medium', weight: 1, endpoint: 'edits', quality: 'medium', size: '1024x1024', n: 1, format: 'png', inputImages: { count: 1, width: 256, height: 256 } },
  ],
};

/**
 * The gateway's limiter in all three runs: a fixed concurrency the load uses about half of,
 * so the test holds the fit and the replay, not the limiter's path. The adaptive default
 * (slow start included) closed the loop within 10 % too in six runs; issue 13's note has them.
 */
const LIMITER = { concurrency: { mode: 'fixed' as const, limit: 32 } };
const SCALE = 0.02;
const TIER = 5;
const SEED = 7;

const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = execFile(process.execPath, ['bin/ratelab.js', ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (_e, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
  });

const byClass = (classes: ClassFigures[] | undefined, cls: string): ClassFigures => classes!.find((c) => c.class.startsWith(cls))!;
const near = (actual: number, expected: number) => Math.abs(actual / expected - 1);

/**
 * Issue 13's closed loop: record a trace through the gateway in front of a mock with a known
 * profile, calibrate a profile from the trace alone, then replay the trace with the fitted
 * profile in the simulator and against a fresh stack over HTTP (`ratelab replay`): both agree
 * with the recorded run within 10 % on goodput and on each class's P95.
 */
describe('record → calibrate → replay', () => {
  it('the simulated and the real replay with the fitted profile agree with the recorded run within 10 %', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-loop-'));
    const known = join(dir, 'known.yaml');
    writeFileSync(known, stringify({ extends: 'openai', name: 'known', latency: KNOWN, pool: { background: { kind: 'none' }, slowdown: [[0, 1]] } }));
    const trace = join(dir, 'trace.jsonl');
    const original = await runLoadtest({
      scenario: 'custom', custom: { rate: 75, durationMs: 2_400_000 }, mix: MIX, timeScale: SCALE, tier: TIER, profile: known, seed: SEED,
      outDir: join(dir, 'original'), gatewayConfig: parseGatewayConfig({ limiter: LIMITER, trace: { path: trace } }),
    });
    const lines = readTrace(trace);
    expect(original.summary.ratelab.images).toBeGreaterThan(2900);

    // The fit sees the trace, nothing of the known profile. Two classes cannot tell the fixed share from the time per
    // reference (the edit differs from the preview in both), so the reference request, which the trace never sent, is not
    // pinned down; what is held is that the fitted profile gives each traced class its observed service time.
    const fit = calibrate(lines);
    expect(fit.fits).toHaveLength(2);
    for (const f of fit.fits) {
      for (const p of ['p50', 'p95'] as const) expect(near(f.fitted[p], f.observed[p]), `${f.class} ${p}`).toBeLessThan(0.05);
      expect(near(f.fitted.p99, f.observed.p99), `${f.class} p99`).toBeLessThan(0.1);
    }
    expect(fit.limitsSeen).toEqual([{ model: 'gpt-image-1.5', requests: 250, tokens: 8_000_000, tier: 5 }]);
    const fitted = join(dir, 'fitted.yaml');
    writeFileSync(fitted, stringify(fit.profile));

    // The replays draw the mock's latencies from the recording's seed (common random numbers): the replay sends the same
    // requests in the same order, so the n-th draw is the same uniform read through the fitted profile instead of the known
    // one. What differs is then the fit and the replay — what this test is about — not two samples' noise (with seeds of
    // their own, 3 runs here differed by up to 9 % on a class's P95 at n = 750, as the sampling error above says).
    const replay = replayOf(lines);
    const sim = await runSim({ scenario: replay.plan, mix: replay.mix, profile: fitted, tier: TIER, seed: SEED, limiter: LIMITER });

    const gateway = join(dir, 'gateway.yaml');
    writeFileSync(gateway, stringify({ limiter: LIMITER }));
    const out = join(dir, 'replay');
    const real = await run(['replay', trace, '--profile', fitted, '--tier', String(TIER), '--config', gateway, '--time-scale', String(SCALE), '--seed', String(SEED), '--engine', 'embedded', '--out', out]);
    expect(real.code, real.stderr).toBe(0);
    const replayed = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;

    const o = original.summary.ratelab;
    const figures = (r: RunSummary['ratelab']) => `goodput ${r.goodputImagesPerMinute.toFixed(1)}/min, P95 ${r.classes!.map((c) => `${c.class.split('-')[0]} ${((c.p95Ms ?? 0) / 1000).toFixed(1)}s`).join(', ')}`;
    // The figures beside each other in the test's output: how close the loop came, not only that it passed.
    console.info(`closed loop: recorded ${figures(o)}; sim ${figures(sim.summary.ratelab)}; real ${figures(replayed.ratelab)}`);
    for (const [name, r] of [['sim', sim.summary.ratelab], ['real', replayed.ratelab]] as const) {
      // The same requests, class by class: the replay sends the trace's classes in its order.
      expect(r.requests, name).toBe(o.requests);
      expect(near(r.goodputImagesPerMinute, o.goodputImagesPerMinute), `${name} goodput ${r.goodputImagesPerMinute} vs ${o.goodputImagesPerMinute}`).toBeLessThan(0.1);
      for (const cls of ['gen-low', 'edit-medium']) {
        const recorded = byClass(o.classes, cls);
        const got = byClass(r.classes, cls);
        expect(got.requests, `${name} ${cls}`).toBe(recorded.requests);
        expect(near(got.p95Ms!, recorded.p95Ms!), `${name} ${cls} P95 ${got.p95Ms} vs ${recorded.p95Ms}`).toBeLessThan(0.1);
      }
    }
  });
});
