/**
 * Early refusals (limiter `queue.refuseEarly`) against refusals at the head of the queue, side
 * by side: the mock at tier 3 (50 images/min for gpt-image-1.5), a gateway with that account's
 * budgets, and sync requests over HTTP at 2× the account's rate (open model: arrivals do not
 * wait for answers) for 10 production minutes; mock and gateway each in its own process. Per round and setting: goodput (images/min
 * delivered, production time) and how long a refused request waited for its 429 (wall clock).
 * Rounds alternate the two settings, so drift on a noisy machine hits both alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { machine, median, recordResult } from './results.ts';

const SCALE = 0.01;
const IPM = 50;
const MINUTES = 10;
const OVERLOAD = 2;
const ROUNDS = 3;

interface Answer {
  status: number;
  code: string | undefined;
  wallMs: number;
}

/** A ratelab server as its own process (`ratelab mock|gateway --port 0`), so its event loop is not the client's. */
async function serve(args: string[], env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args, '--port', '0'], { env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ratelab \w+ {2}(http:\/\/\S+)\/v1/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`${args[0]} exited before listening: ${out}`)));
  });
  child.stdout!.resume();
  return { url, stop: () => (child.kill('SIGTERM'), exited) };
}

async function round(refuseEarly: boolean, seed: number): Promise<{ goodputIpm: number; refused: number; refusalP50: number; refusalP99: number; refusalMax: number; answers: number }> {
  const mock = await serve(['mock', '--profile', 'openai', '--seed', String(seed)], { TIME_SCALE: String(SCALE) });
  const config = join(mkdtempSync(join(tmpdir(), 'ratelab-bench-')), 'gateway.json');
  writeFileSync(config, JSON.stringify({ limiter: { budgets: { ipm: { limit: IPM }, tpm: { limit: 800_000 } }, queue: { refuseEarly } } }));
  const gateway = await serve(['gateway', '--upstream', `${mock.url}/v1`, '--config', config], { TIME_SCALE: String(SCALE), UPSTREAM_API_KEY: 'sk-tier3-bench-early-refusal' });
  try {
    const total = OVERLOAD * IPM * MINUTES;
    const intervalMs = (MINUTES * 60_000 * SCALE) / total;
    const started = performance.now();
    const answers: Promise<Answer>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + i * intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sent = performance.now();
      answers.push(
        fetch(`${gateway.url}/v1/images/generations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `bench ${i}`, quality: 'low' }),
        }).then(async (res) => {
          const body = (await res.json()) as { error?: { code?: string } };
          return { status: res.status, code: body.error?.code, wallMs: performance.now() - sent };
        }),
      );
    }
    const all = await Promise.all(answers);
    const elapsedProductionMin = (performance.now() - started) / SCALE / 60_000;
    const ok = all.filter((a) => a.status === 200).length;
    const refusals = all.filter((a) => a.code === 'deadline_unmeetable' || a.code === 'deadline_exceeded').map((a) => a.wallMs).sort((a, b) => a - b);
    const at = (q: number) => refusals[Math.min(refusals.length - 1, Math.floor(q * refusals.length))] ?? NaN;
    return { goodputIpm: ok / elapsedProductionMin, refused: refusals.length, refusalP50: at(0.5), refusalP99: at(0.99), refusalMax: refusals.at(-1) ?? NaN, answers: all.length };
  } finally {
    await gateway.stop();
    await mock.stop();
  }
}

export async function benchEarlyRefusal(): Promise<string> {
  const on: Awaited<ReturnType<typeof round>>[] = [];
  const off: Awaited<ReturnType<typeof round>>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // The same seed for both settings in a round: the same mock latencies.
    off.push(await round(false, 100 + r));
    on.push(await round(true, 100 + r));
  }
  const f = (x: number, d = 0) => x.toFixed(d);
  const stat = (xs: number[], d = 0) => `${f(Math.min(...xs), d)} / ${f(median(xs), d)} / ${f(Math.max(...xs), d)}`;
  const ratios = on.map((o, i) => o.goodputIpm / off[i]!.goodputIpm);
  const table = [
    '| | goodput, images/min (prod.) | refused | refusal wait P50, ms (wall) | P99 | max |',
    '|---|---|---|---|---|---|',
    ...[['refuseEarly: true', on] as const, ['refuseEarly: false', off] as const].map(
      ([name, rs]) =>
        `| ${name} | ${stat(rs.map((r) => r.goodputIpm), 1)} | ${stat(rs.map((r) => r.refused))} | ${stat(rs.map((r) => r.refusalP50), 1)} | ${stat(rs.map((r) => r.refusalP99), 1)} | ${stat(rs.map((r) => r.refusalMax), 1)} |`,
    ),
  ].join('\n');
  const markdown = [
    '## Early refusals (limiter queue.refuseEarly)',
    '',
    `\`npm run bench -- early-refusal\` on ${machine()}. Mock \`openai\` profile at tier 3 (${IPM} images/min), gateway with that budget,`,
    `sync requests at ${OVERLOAD}× the account's rate for ${MINUTES} production minutes (time scale ${SCALE}: queue.maxWait 5 min is 3 s of wall clock),`,
    `${ROUNDS} rounds alternating the settings (same mock seed within a round); min / median / max over rounds. Refusal wait: wall-clock ms from`,
    'sending a request to its 429 deadline_unmeetable (or 504 deadline_exceeded, refused at the deadline).',
    '',
    table,
    '',
    `Goodput on ÷ off per round: ${ratios.map((r) => r.toFixed(3)).join(', ')}.`,
  ].join('\n');
  recordResult('early-refusal', markdown);
  return markdown;
}
