import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import type { JobView } from '../src/gateway/jobs/types.ts';
import { GatewayProcess } from './support/gateway-process.ts';
import { haveRedisServer, PrivateRedis, requireRedisInCi } from './support/redis-server.ts';
import { expectReplicasWithinLimits } from './support/replica-limits.ts';

requireRedisInCi();

const SCALE = 0.02;
const UPSTREAM_KEY = 'sk-tier5-jobs-secret-9d41c';
const auth = { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' };

function writeConfig(content: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ratelab-gw-')), 'gateway.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

async function submit(baseURL: string, prompt: string): Promise<JobView> {
  const res = await fetch(`${baseURL}/jobs/images`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt, quality: 'low', output_format: 'webp' }) });
  expect(res.status).toBe(202);
  return (await res.json()) as JobView;
}

async function getJob(baseURL: string, id: string): Promise<JobView> {
  return (await (await fetch(`${baseURL}/jobs/${id}`, { headers: auth })).json()) as JobView;
}

/** Reads a job's server-sent events until the stream ends. */
async function events(baseURL: string, id: string): Promise<{ type: string; attempt?: number }[]> {
  const res = await fetch(`${baseURL}/jobs/${id}/events`, { headers: auth });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string; attempt?: number });
}

describe.skipIf(!haveRedisServer())('gateway jobs on Redis (BullMQ), real processes', () => {
  let redis: PrivateRedis;
  let mock: RunningMockServer;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    mock = await startMockServer({ profile: 'openai', timeScale: SCALE, seed: 11 });
  });
  // A test that fails mid-way must not leave its fault on the shared mock for the next one.
  afterEach(async () => {
    await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
  });
  afterAll(async () => {
    await mock.close();
    await redis.kill();
  });

  it('jobs survive a SIGKILLed gateway: each ends once (result or dead letter), none lost', { timeout: 90_000 }, async () => {
    // Short locks and leases so the takeover happens within the test: a dead gateway's jobs after 1.5 s, its concurrency slots after 2 s.
    const config = writeConfig({ jobs: { lockDuration: 1_500, maxAttempts: 3, backoff: '1s', prefix: 'kill' }, redis: { leaseTtl: 2_000 }, limiter: { concurrency: { mode: 'fixed', limit: 4 } } });
    const env = { REDIS_URL: redis.url, UPSTREAM_API_KEY: UPSTREAM_KEY, TIME_SCALE: String(SCALE) };
    // Generations six times slower (~1–2 s at this scale), so a job seen running is still running when the kill comes:
    // at normal speed a low-quality run lasts ~0.3 s and could end between the last poll and the kill.
    await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', factor: 6 }) });
    const first = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env);
    const submitted = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(first.baseURL, `kill test ${i}`)));
    expect(new Set(submitted.map((j) => j.id)).size).toBe(24);
    // Kill it while some run: 4 at a time upstream, the rest of its share waiting in its limiter.
    const running = async () => (await Promise.all(submitted.map((j) => getJob(first.baseURL, j.id)))).filter((v) => v.status === 'running').map((v) => v.id);
    let runningAtKill: string[] = [];
    for (const stop = Date.now() + 10_000; runningAtKill.length === 0 && Date.now() < stop; ) runningAtKill = await running();
    // Those still running 300 ms later have surely logged their start.
    await new Promise((r) => setTimeout(r, 300));
    const still = new Set(await running());
    first.kill('SIGKILL');
    runningAtKill = runningAtKill.filter((id) => still.has(id));
    expect(runningAtKill.length).toBeGreaterThan(0);
    expect(await first.exited).toBeNull();
    await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });

    const second = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env);
    const deadline = Date.now() + 60_000;
    let views: JobView[] = [];
    while (Date.now() < deadline) {
      views = await Promise.all(submitted.map((j) => getJob(second.baseURL, j.id)));
      if (views.every((v) => v.status === 'succeeded' || v.dead_letter)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const succeeded = views.filter((v) => v.status === 'succeeded');
    const dead = views.filter((v) => v.dead_letter);
    expect(succeeded.length + dead.length).toBe(24);
    for (const v of succeeded) expect((v.result as { data: { b64_json: string }[] }).data).toHaveLength(1);
    // The event stream replays the whole story from Redis on any replica.
    const stories = await Promise.all(succeeded.map((v) => events(second.baseURL, v.id)));
    for (const story of stories) {
      expect(story[0]!.type).toBe('queued');
      expect(story.at(-1)!.type).toBe('succeeded');
    }
    // Jobs running on the killed gateway were taken over after their lock expired: started twice, yet
    // the run the kill cut short is not the provider's failure, so it counts no attempt.
    const takenOver = await Promise.all(runningAtKill.map((id) => events(second.baseURL, id)));
    expect(takenOver.some((story) => story.filter((e) => e.type === 'started').length >= 2)).toBe(true);
    expect(views.filter((v) => runningAtKill.includes(v.id)).every((v) => v.attempts === 1)).toBe(true);

    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    for (const out of [first.output, second.output]) {
      expect(out).toContain('BullMQ on REDIS_URL');
      expect(out).not.toContain(UPSTREAM_KEY);
    }
  });

  it('SIGTERM hands queued jobs back to Redis without spending a run; the next gateway finishes them', { timeout: 60_000 }, async () => {
    const config = writeConfig({ jobs: { prefix: 'term' }, limiter: { concurrency: { mode: 'fixed', limit: 2 } } });
    const env = { REDIS_URL: redis.url, UPSTREAM_API_KEY: UPSTREAM_KEY, TIME_SCALE: String(SCALE) };
    const first = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env);
    const submitted = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(first.baseURL, `term test ${i}`)));
    await new Promise((r) => setTimeout(r, 300));
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env);
    try {
      const deadline = Date.now() + 30_000;
      let views: JobView[] = [];
      while (Date.now() < deadline) {
        views = await Promise.all(submitted.map((j) => getJob(second.baseURL, j.id)));
        if (views.every((v) => v.status === 'succeeded')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(views.map((v) => v.status)).toEqual(Array(12).fill('succeeded'));
      // Handed back, not failed: no job shows a retried run.
      const stories = await Promise.all(submitted.map((j) => events(second.baseURL, j.id)));
      expect(stories.flat().filter((e) => e.type === 'retried' || e.type === 'failed')).toEqual([]);
    } finally {
      second.kill('SIGTERM');
      await second.exited;
    }
  });

  it('DELETE cancels a job waiting in Redis and a job running on a gateway, with events', { timeout: 60_000 }, async () => {
    const config = writeConfig({ jobs: { prefix: 'cancel', concurrency: 1 } });
    const gw = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], { REDIS_URL: redis.url, UPSTREAM_API_KEY: UPSTREAM_KEY, TIME_SCALE: String(SCALE) });
    await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', factor: 40 }) });
    try {
      const running = await submit(gw.baseURL, 'slow one');
      const waiting = await submit(gw.baseURL, 'queued behind it');
      for (let i = 0; i < 50 && (await getJob(gw.baseURL, running.id)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await getJob(gw.baseURL, waiting.id)).status).toBe('queued');
      const del = async (id: string) => (await (await fetch(`${gw.baseURL}/jobs/${id}`, { method: 'DELETE', headers: auth })).json()) as JobView;
      expect((await del(waiting.id)).status).toBe('cancelled');
      expect((await getJob(gw.baseURL, waiting.id)).status).toBe('cancelled');
      expect((await events(gw.baseURL, waiting.id)).map((e) => e.type)).toEqual(['queued', 'cancelled']);
      const cancelledRun = await del(running.id);
      expect(cancelledRun.status, JSON.stringify(cancelledRun)).toBe('cancelled');
      const story = (await events(gw.baseURL, running.id)).map((e) => e.type);
      expect(story[0]).toBe('queued');
      expect(story.at(-1)).toBe('cancelled');
    } finally {
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
      gw.kill('SIGTERM');
      await gw.exited;
    }
  });

  it('with its Redis unreachable the gateway still serves sync requests, says it is not ready, and refuses jobs with 503', { timeout: 60_000 }, async () => {
    const dead = await PrivateRedis.start();
    await dead.kill();
    const gw = await GatewayProcess.start(['--upstream', mock.baseURL], { REDIS_URL: dead.url, UPSTREAM_API_KEY: UPSTREAM_KEY, TIME_SCALE: String(SCALE) });
    try {
      const base = gw.baseURL.replace(/\/v1$/, '');
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons).toContain('Redis is unreachable');
      const job = await fetch(`${gw.baseURL}/jobs/images`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt: 'no redis', quality: 'low' }) });
      expect(job.status).toBe(503);
      expect(((await job.json()) as { error: { code: string } }).error.code).toBe('jobs_unavailable');
      // Sync requests run on the limiter's local share meanwhile.
      const sync = await fetch(`${gw.baseURL}/images/generations`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt: 'no redis', quality: 'low' }) });
      expect(sync.status).toBe(200);
    } finally {
      gw.kill('SIGTERM');
      await gw.exited;
    }
  });

  it('a job that keeps failing lands in the dead-letter queue after maxAttempts runs', { timeout: 60_000 }, async () => {
    const config = writeConfig({ jobs: { maxAttempts: 2, backoff: '1s', prefix: 'dlq' }, limiter: { retry: { maxAttempts: 1 }, circuit: { enabled: false } } });
    const gw = await GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], { REDIS_URL: redis.url, UPSTREAM_API_KEY: UPSTREAM_KEY, TIME_SCALE: String(SCALE) });
    try {
      await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'error', status: 500, rate: 1 }) });
      const job = await submit(gw.baseURL, 'doomed');
      const story = await events(gw.baseURL, job.id);
      expect(story.map((e) => e.type), JSON.stringify(story)).toEqual(['queued', 'started', 'retried', 'started', 'failed']);
      const view = await getJob(gw.baseURL, job.id);
      expect(view).toMatchObject({ status: 'failed', dead_letter: true, attempts: 2, error: { type: 'server_error' } });
      const dlq = (await (await fetch(`${gw.baseURL}/jobs/dead-letter`, { headers: auth })).json()) as { data: { id: string }[] };
      expect(dlq.data.map((d) => d.id)).toContain(job.id);
    } finally {
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
      gw.kill('SIGTERM');
      await gw.exited;
    }
  });

  it('two gateway replicas on one Redis keep one account within its limits', { timeout: 60_000 }, async () => {
    await expectReplicasWithinLimits(redis.url, writeConfig({ jobs: { prefix: 'replicas' }, limiter: { budgets: { ipm: { limit: 20 } }, queue: { maxWait: '10m', maxSize: 500 } } }), 12);
  });
});
