import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkoutBaseline } from './baseline.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * Whether the embedded engine holds its rate from the first second, as a user meets it:
 * each sample is a fresh `ratelab loadtest custom` process (the bundle, embedded engine) at
 * RATE/s for 2 s against a zero-latency server in another process, counted against the
 * schedule (RATE × 2 arrivals: sent + dropped) from the run's summary.json. With
 * `BASELINE=<rev>`, that revision's bundle runs beside it, rounds interleaved.
 * `npm run bench -- engine-cold` (BENCH_ROUNDS, default 7; BENCH_RATE, default 4000).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RATE = Number(process.env.BENCH_RATE ?? 4000);
const SECONDS = 2;
const ROOT = resolve(import.meta.dirname, '..');

interface Sample {
  dropped: number;
  sent: number;
  /** Process start to exit, warm-up included. */
  wallMs: number;
}

function options(): string {
  return JSON.stringify({
    scenarios: { cold: { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: `${SECONDS}s`, preAllocatedVUs: 200, maxVUs: 1000, gracefulStop: '5s' } },
    thresholds: {},
  });
}

function runOnce(bin: string, target: string, optionsFile: string, out: string): Promise<Sample> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const args = [bin, 'loadtest', 'custom', '--options', optionsFile, '--target', target, '--capacity', '60', '--time-scale', '1', '--engine', 'embedded', '--out', out];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}`));
      const { metrics } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { metrics: Record<string, { values?: { count?: number } } | undefined> };
      // k6 leaves dropped_iterations out of a summary when nothing was dropped.
      done({ dropped: metrics.dropped_iterations?.values?.count ?? 0, sent: metrics.http_reqs?.values?.count ?? 0, wallMs: performance.now() - t0 });
    });
  });
}

export async function benchEngineCold(): Promise<Record<string, Sample[]>> {
  execFileSync(process.execPath, [resolve(ROOT, 'bin/build.js')], { stdio: 'ignore' });
  const before = process.env.BASELINE ? checkoutBaseline(process.env.BASELINE) : undefined;
  const sides: [string, string][] = [['after', resolve(ROOT, 'bin/ratelab.js')], ...(before ? [['before', join(before.dir, 'bin/ratelab.js')] as [string, string]] : [])];
  const child = fork(join(ROOT, 'test', 'support', 'zero-server.ts'), { execArgv: ['--import', 'tsx'] });
  const dir = mkdtempSync(join(tmpdir(), 'ratelab-engine-cold-'));
  try {
    const { url } = await new Promise<{ url: string }>((ok) => child.once('message', ok as never));
    const optionsFile = join(dir, 'options.json');
    writeFileSync(optionsFile, options());
    // Discarded: builds a bundle that is stale, fills the OS file cache, warms the server.
    for (const [, bin] of sides) await runOnce(bin, url, optionsFile, join(dir, 'discard'));
    const samples: Record<string, Sample[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [side, bin] of round % 2 ? [...sides].reverse() : sides) {
        const s = await runOnce(bin, url, optionsFile, join(dir, `${side}-${round}`));
        (samples[side] ??= []).push(s);
        console.log(`round ${round + 1} ${side}: ${s.dropped} dropped of ${RATE * SECONDS} (${pct(s.dropped)}), ${s.sent} sent, ${(s.wallMs / 1000).toFixed(1)} s`);
      }
    }
    record(samples, before?.sha);
    return samples;
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
    before?.cleanup();
  }
}

const pct = (dropped: number): string => `${((100 * dropped) / (RATE * SECONDS)).toFixed(2)} %`;

function record(samples: Record<string, Sample[]>, beforeSha: string | undefined): void {
  const row = (name: string, xs: Sample[]) => {
    const d = xs.map((s) => s.dropped);
    const w = xs.map((s) => s.wallMs / 1000);
    return `| ${name} | ${pct(median(d))} (${pct(Math.min(...d))}–${pct(Math.max(...d))}) | ${d.filter((x) => x <= RATE * SECONDS * 0.005).length} of ${d.length} | ${median(w).toFixed(1)} s (${Math.min(...w).toFixed(1)}–${Math.max(...w).toFixed(1)}) |`;
  };
  recordResult(
    'engine-cold',
    [
      `## Cold engine: arrivals dropped in a fresh process's first ${SECONDS} s at ${RATE}/s (issue 18: ≤ 0.5 %)`,
      '',
      `Command: \`${beforeSha ? `BASELINE=${beforeSha} ` : ''}npm run bench -- engine-cold\`: ${ROUNDS} fresh \`node bin/ratelab.js loadtest custom --options <constant-arrival-rate ${RATE}/s for ${SECONDS} s, 200 pre-allocated VUs, 1000 max> --target <zero-latency server in another process> --time-scale 1 --engine embedded\` per side, interleaved, after one discarded round; dropped = the summary's dropped_iterations, against the schedule's ${RATE * SECONDS} arrivals. Wall = process start to exit (start-up, warm-up, the ${SECONDS} s run, writing the report). k6 is not installable here, so the figure is against the schedule, not k6's.`,
      `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| bundle | dropped, median (min–max) | runs ≤ 0.5 % | wall per process |',
      '|---|---|---|---|',
      row('after (warmed before the clock)', samples.after!),
      ...(samples.before ? [row(`before (${beforeSha}, cold)`, samples.before)] : []),
    ].join('\n'),
  );
}
