import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { startMockServer } from '../../mock-server/http-server.ts';
import type { JobView } from '../../src/gateway/jobs/types.ts';
import { GATEWAY_METRICS } from '../../src/metrics/catalogue.ts';
import { GatewayProcess } from './gateway-process.ts';

/** Tier 1 of the default model's family (gpt-image-1.5): 5 images a minute. */
export const TIER1_IPM = 5;
/** Jobs a gateway hands its limiter at once (jobs.concurrency, its default): a job can be overtaken by at most these. */
export const JOBS_IN_FLIGHT = 64;
const CLIENTS = [
  { name: 'web', key: 'sk-web-overload-3f1c', priority: 'high' as const },
  { name: 'batch', key: 'sk-batch-overload-8d2e', priority: 'low' as const },
];

export interface JobsOverloadRun {
  jobs: { id: string; client: 'web' | 'batch'; submittedAt: number; view: JobView; story: { type: string; at: number; attempt?: number; error?: { code?: string | null } }[] }[];
  deadLetters: unknown[];
  /** Requests the mock answered with its outage status. */
  outageAnswers: number;
  wallMs: number;
}

/**
 * `rate` × a tier-1 account's images per minute, as async jobs through a gateway process,
 * for `minutes` (production time), then nothing; optionally with the provider down for a
 * while. One job in twenty comes from a high-priority client, the rest from a low one.
 * Waits until every job has ended (or `maxWallMs`) and reads each job's story.
 */
export async function jobsOverload(opts: {
  timeScale: number;
  rate: number;
  minutes: number;
  redisUrl?: string;
  /**
   * The provider down from `atMinute` for at least `minutes` and until it has sent `answers`
   * outage answers, with the gateway's breaker set by `circuit`.
   */
  outage?: { atMinute: number; minutes: number; answers: number; circuit?: Record<string, number> };
  maxWallMs: number;
}): Promise<JobsOverloadRun> {
  const mock = await startMockServer({ profile: 'openai', timeScale: opts.timeScale, seed: 21 });
  const dir = mkdtempSync(join(tmpdir(), 'ratelab-jobs-overload-'));
  const config = join(dir, 'gateway.json');
  writeFileSync(
    config,
    JSON.stringify({
      clients: CLIENTS,
      limiter: { budgets: { ipm: { limit: TIER1_IPM }, tpm: { limit: 100_000 } }, ...(opts.outage?.circuit ? { circuit: opts.outage.circuit } : {}) },
      jobs: { prefix: `overload-${process.pid}-${Date.now()}`, concurrency: JOBS_IN_FLIGHT },
    }),
  );
  const env: Record<string, string> = { UPSTREAM_API_KEY: 'sk-tier1-overload-upstream-5a7b', TIME_SCALE: String(opts.timeScale), ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}) };
  const gateway = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env);
  const started = Date.now();
  try {
    const minuteMs = 60_000 * opts.timeScale;
    const total = Math.round(opts.rate * TIER1_IPM * opts.minutes);
    const intervalMs = (opts.minutes * minuteMs) / total;
    const outage = opts.outage;
    const outageAt = outage ? started + outage.atMinute * minuteMs : Infinity;
    let outageOver: Promise<void> | undefined;
    const submitted: Promise<{ id: string; client: 'web' | 'batch'; submittedAt: number }>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + i * intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!outageOver && Date.now() >= outageAt) outageOver = outageFor(mock.url, gateway.baseURL, outage!.minutes * minuteMs, outage!.answers);
      const client = i % 20 === 0 ? CLIENTS[0]! : CLIENTS[1]!;
      submitted.push(submit(gateway.baseURL, client.key, `job ${i}`).then((id) => ({ id, client: client.name as 'web' | 'batch', submittedAt: Date.now() })));
    }
    if (outage && !outageOver) outageOver = outageFor(mock.url, gateway.baseURL, outage.minutes * minuteMs, outage.answers);
    const ids = await Promise.all(submitted);
    await outageOver;
    const keyOf = (client: 'web' | 'batch') => CLIENTS.find((c) => c.name === client)!.key;
    let views: JobView[] = [];
    while (Date.now() - started < opts.maxWallMs) {
      views = await mapLimit(ids, 32, (j) => getJob(gateway.baseURL, keyOf(j.client), j.id));
      if (views.every((v) => v.status === 'succeeded' || v.status === 'failed' || v.status === 'cancelled')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const wallMs = Date.now() - started;
    const stories = await mapLimit(ids, 16, (j) => events(gateway.baseURL, keyOf(j.client), j.id));
    const deadLetters = await Promise.all(CLIENTS.map(async (c) => ((await (await fetch(`${gateway.baseURL}/jobs/dead-letter`, { headers: { authorization: `Bearer ${c.key}` } })).json()) as { data: unknown[] }).data));
    return {
      jobs: ids.map((j, i) => ({ ...j, view: views[i]!, story: stories[i]! })),
      deadLetters: deadLetters.flat(),
      outageAnswers: await outageAnswers(mock.url),
      wallMs,
    };
  } finally {
    gateway.kill('SIGTERM');
    await gateway.exited;
    await mock.close();
  }
}

/**
 * Puts the mock down until `ms` have passed, it has sent `answers` outage answers and a job
 * run has met the open circuit (or 30 s of wall time): on a loaded machine the gateway can
 * stall through a short outage, or meet it only with runs already queued in its limiter.
 */
async function outageFor(mockUrl: string, gatewayUrl: string, ms: number, answers: number): Promise<void> {
  const started = Date.now();
  const res = await fetch(`${mockUrl}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'outage' }) });
  if (res.status !== 201) throw new Error(`outage not injected: ${res.status} ${await res.text()}`);
  const { faults } = (await res.json()) as { faults: { id: string }[] };
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    if (Date.now() - started < ms) continue;
    if (Date.now() - started > 30_000) break;
    if ((await outageAnswers(mockUrl)) >= answers && (await jobEvents(gatewayUrl, 'deferred')) > 0) break;
  }
  const removed = await fetch(`${mockUrl}/__admin/faults/${faults[0]!.id}`, { method: 'DELETE' });
  if (removed.status !== 200) throw new Error(`outage not removed: ${removed.status} ${await removed.text()}`);
}

/** The gateway's count of a job event (ratelab_gateway_jobs_total{event}). */
async function jobEvents(gatewayUrl: string, event: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${GATEWAY_METRICS.jobs.name}{event="${event}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function outageAnswers(mockUrl: string): Promise<number> {
  const stats = (await (await fetch(`${mockUrl}/__admin/stats`)).json()) as { byStatus?: Record<string, number> };
  return stats.byStatus?.['503'] ?? 0;
}

async function submit(baseURL: string, key: string, prompt: string): Promise<string> {
  const res = await fetch(`${baseURL}/jobs/images`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt, quality: 'low' }) });
  const body = (await res.json()) as JobView;
  if (res.status !== 202) throw new Error(`job not accepted: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

async function getJob(baseURL: string, key: string, id: string): Promise<JobView> {
  return (await (await fetch(`${baseURL}/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as JobView;
}

async function events(baseURL: string, key: string, id: string): Promise<JobsOverloadRun['jobs'][number]['story']> {
  const text = await (await fetch(`${baseURL}/jobs/${id}/events`, { headers: { authorization: `Bearer ${key}` } })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as JobsOverloadRun['jobs'][number]['story'][number]);
}

/** `fn` over `items`, at most `limit` at once, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const queue = new PQueue({ concurrency: limit });
  return Promise.all(items.map((item) => queue.add(() => fn(item))));
}
