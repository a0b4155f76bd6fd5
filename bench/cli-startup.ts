import { execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { checkoutBaseline } from './baseline.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * How long a user waits for a `ratelab` command to answer, in cold processes: the prebuilt
 * bundle (`bin/ratelab.js`, what `npx ratelab` and the npm scripts run) beside the same
 * command from source through tsx (how every call ran before), rounds interleaved.
 * `--help` of a command loads every module the command itself loads, so it is the
 * command's start-up before any work (loadtest: before the stack starts); `sim` is a whole
 * simulation of the default peak, whose first line is its summary.
 * With `BASELINE=<rev>`, that revision's `bin/ratelab.js` (in a temporary git worktree) runs
 * beside them: the same commands as they started before.
 * `npm run bench -- cli-startup` (BENCH_ROUNDS, default 7).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROOT = resolve(import.meta.dirname, '..');
const COMMANDS: [string, string[]][] = [
  ['ratelab --version', ['--version']],
  ['ratelab sim (peak, whole run)', ['sim', '--scenario', 'peak']],
  ['ratelab tune --help', ['tune', '--help']],
  ['ratelab compare --help', ['compare', '--help']],
  ['ratelab loadtest --help', ['loadtest', '--help']],
];
const SIDES: [string, string[]][] = [
  ['bundle', [resolve(ROOT, 'bin/ratelab.js')]],
  ['tsx', ['--import', 'tsx', resolve(ROOT, 'src/cli.ts')]],
];

/** `rev` checked out beside this one, sharing its node_modules; its bin and a clean-up. */
function baseline(rev: string): { sha: string; bin: string; cleanup: () => void } {
  const b = checkoutBaseline(rev);
  return { sha: b.sha, bin: join(b.dir, 'bin/ratelab.js'), cleanup: b.cleanup };
}

/** ms from spawn to the first byte on stdout, and to exit. */
function timed(args: string[]): Promise<{ firstLineMs: number; exitMs: number }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    let first: number | undefined;
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', () => (first ??= performance.now() - t0));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done({ firstLineMs: first ?? NaN, exitMs: performance.now() - t0 }) : fail(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

export async function benchCliStartup(): Promise<Record<string, Record<string, number[]>>> {
  execFileSync(process.execPath, [resolve(ROOT, 'bin/build.js')], { stdio: 'ignore' });
  const before = process.env.BASELINE ? baseline(process.env.BASELINE) : undefined;
  const sides: [string, string[]][] = before ? [...SIDES, [`before`, [before.bin]]] : SIDES;
  try {
    return record(await measure(sides), before?.sha);
  } finally {
    before?.cleanup();
  }
}

async function measure(sides: [string, string[]][]): Promise<Record<string, Record<string, number[]>>> {
  const samples: Record<string, Record<string, number[]>> = {};
  for (const [, args] of COMMANDS) for (const [, side] of sides) await timed([...side, ...args]); // warm-up: the OS file cache, tsx's cache
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, args] of COMMANDS) {
      const order = round % 2 ? [...sides].reverse() : sides;
      for (const [side, prefix] of order) {
        const t = await timed([...prefix, ...args]);
        ((samples[name] ??= {})[side] ??= []).push(t.firstLineMs);
      }
    }
  }
  return samples;
}

function record(samples: Record<string, Record<string, number[]>>, beforeSha: string | undefined): Record<string, Record<string, number[]>> {
  const s = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;
  const rows = COMMANDS.map(([name]) => {
    const { bundle, tsx, before } = samples[name] as { bundle: number[]; tsx: number[]; before?: number[] };
    const ratios = (other: number[]) => `${median(bundle.map((b, i) => other[i]! / b)).toFixed(2)}×`;
    return `| ${name} | ${s(bundle)} | ${s(tsx)} (${ratios(tsx)}) |${before ? ` ${s(before)} (${ratios(before)}) |` : ''}`;
  });
  recordResult(
    'cli-startup',
    [
      '## CLI start-up: time to the first line of output (issue 18: < 1 s)',
      '',
      `Command: \`${beforeSha ? `BASELINE=${beforeSha} ` : ''}npm run bench -- cli-startup\`: ${ROUNDS} cold processes per command and side, interleaved, after a discarded warm-up; median (min–max). bundle = \`node bin/ratelab.js\` (dist/cli.mjs, esbuild, packages external, the Redis and openai-SDK code in lazy chunks); tsx = \`node --import tsx src/cli.ts\` (the same source, transpiled at start)${beforeSha ? `; before = ${beforeSha}'s \`bin/ratelab.js\` (a child process through tsx, every module loaded at start, the mock's images rendered)` : ''}. In brackets: that side's time ÷ the bundle's, per round, median.`,
      `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      `| command | bundle | tsx (source) |${beforeSha ? ' before |' : ''}`,
      `|---|---|---|${beforeSha ? '---|' : ''}`,
      ...rows,
    ].join('\n'),
  );
  return samples;
}
