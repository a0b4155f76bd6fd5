import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { createLimiter } from '../src/limiter/limiter.ts';
import { RedisStore } from '../src/limiter/redis-store.ts';
import { haveRedisServer, PrivateRedis, requireRedisInCi } from './support/redis-server.ts';

requireRedisInCi();

/**
 * Tier 2 (20 images a minute) at time scale 0.04: a minute lasts 2.4 s, so one image is
 * 120 ms apart, well above the scheduling jitter of three processes on two cores.
 */
const SCALE = 0.04;
const IPM = 20;
const MINUTE_MS = 60_000 * SCALE;

interface WorkerSummary {
  offered: number;
  ended: number;
  ok: number;
  shed: number;
  upstream: number;
  upstream429: number;
  fellBack: boolean;
  fallbackAtEnd: boolean;
  starts: number[];
}

function runWorker(args: Record<string, unknown>): { done: Promise<WorkerSummary>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/redis-limiter-worker.ts', JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<WorkerSummary>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerSummary) : reject(new Error(`worker exited ${code}: ${err}`)))),
  );
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Most starts in any window of `windowMs` across all replicas. */
function maxInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe.skipIf(!haveRedisServer())('limiter on Redis (real server)', () => {
  let redis: PrivateRedis;
  let mock: RunningMockServer;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    mock = await startMockServer({ profile: 'openai', timeScale: SCALE, seed: 5 });
  });
  afterAll(async () => {
    await mock.close();
    await redis.kill();
  });

  it('three processes sharing one Redis keep the aggregate rate within the limit over every window', { timeout: 60_000 }, async () => {
    const common = { redisUrl: redis.url, baseURL: mock.baseURL, key: 'sk-tier2-three', rate: (2 * IPM) / (MINUTE_MS / 1000), seconds: 2 * (MINUTE_MS / 1000), timeScale: SCALE, ipm: IPM };
    const summaries = await Promise.all([runWorker(common), runWorker(common), runWorker(common)].map((w) => w.done));
    const starts = summaries.flatMap((s) => s.starts);
    const upstream = summaries.reduce((a, s) => a + s.upstream, 0);
    const upstream429 = summaries.reduce((a, s) => a + s.upstream429, 0);
    for (const s of summaries) expect(s.ended).toBe(s.offered);
    // 6× the capacity was offered; the account's bucket (20 + 20 per minute) was never overrun.
    expect(upstream429 / upstream).toBeLessThan(0.01);
    expect(maxInWindow(starts, MINUTE_MS)).toBeLessThanOrEqual(2 * IPM);
    // The provider's bucket: a full burst plus the refill over the run.
    const span = Math.max(...starts) - Math.min(...starts);
    expect(upstream).toBeLessThanOrEqual(IPM + (IPM * span) / MINUTE_MS);
    console.log(`three replicas: ${upstream} upstream calls in ${(span / MINUTE_MS).toFixed(2)} min (envelope ${(IPM + (IPM * span) / MINUTE_MS).toFixed(1)}), ${upstream429} 429s, busiest minute ${maxInWindow(starts, MINUTE_MS)}`);
  });

  it('a killed replica’s concurrency slots come back within the lease TTL', async () => {
    const hog = runWorker({ redisUrl: redis.url, baseURL: mock.baseURL, key: 'sk-tier5-hog', rate: 50, seconds: 0.2, timeScale: 1, ipm: 250, concurrency: 4, leaseTtlMs: 1500 });
    const store = new RedisStore({ redis: redis.url, budgets: { safety: 0.9, window: 60_000, syncFromHeaders: false, requestsHeader: 'ipm' }, name: 'shared-account', leaseTtlMs: 1500, heartbeatMs: 200 });
    await store.ready();
    const limiter = createLimiter({ concurrency: { mode: 'fixed', limit: 4 } }, { store });
    // Wait until the hog holds all four slots (its calls take ~0.8 s here), then kill it: its
    // leases are never released, so the next task waits for them to expire (TTL 1.5 s after
    // the hog's last renewal, at most 0.2 s before the kill).
    for (let i = 0; i < 100 && (await store['redis'].zcard('ratelab:{shared-account}:leases')) < 4; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await store['redis'].zcard('ratelab:{shared-account}:leases')).toBe(4);
    hog.kill();
    await hog.done.catch(() => undefined);
    const killedAt = performance.now();
    const started = await limiter.schedule(async () => performance.now());
    expect(started - killedAt).toBeGreaterThan(1000);
    expect(started - killedAt).toBeLessThan(1500 + 600);
    await store.close();
  }, 40_000);

  it('survives Redis stopping mid-run (local 1/N share), and resumes shared limiting when it returns', async () => {
    const common = { redisUrl: redis.url, baseURL: mock.baseURL, key: 'sk-tier2-outage', rate: (2 * IPM) / (MINUTE_MS / 1000), seconds: 3 * (MINUTE_MS / 1000), timeScale: SCALE, ipm: IPM };
    const t0 = performance.timeOrigin + performance.now();
    const workers = [runWorker(common), runWorker(common), runWorker(common)];
    // Kill Redis only once all three replicas are up (they take ~2 s to boot) and have run a while.
    const watcher = new Redis(redis.url);
    for (let i = 0; i < 200 && (await watcher.zcard('ratelab:{shared-account}:replicas')) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    watcher.disconnect();
    await new Promise((r) => setTimeout(r, MINUTE_MS * 0.5));
    await redis.kill();
    await new Promise((r) => setTimeout(r, MINUTE_MS * 1.2));
    await redis.start();
    const summaries = await Promise.all(workers.map((w) => w.done));
    const starts = summaries.flatMap((s) => s.starts).sort((a, b) => a - b);
    console.log(`fell back: ${summaries.map((s) => s.fellBack).join(',')}; back on Redis at the end: ${summaries.map((s) => !s.fallbackAtEnd).join(',')}; first start ${((starts[0]! - t0) / 1000).toFixed(2)} s after spawn`);
    for (const s of summaries) {
      expect(s.ended).toBe(s.offered);
      expect(s.fellBack).toBe(true);
      expect(s.fallbackAtEnd).toBe(false);
    }
    const span = starts.at(-1)! - starts[0]!;
    const envelope = IPM + (IPM * span) / MINUTE_MS;
    expect(starts.length).toBeLessThanOrEqual(1.1 * envelope);
    const upstream429 = summaries.reduce((a, s) => a + s.upstream429, 0);
    console.log(`Redis outage: ${starts.length} upstream calls vs envelope ${envelope.toFixed(1)} (${((starts.length / envelope - 1) * 100).toFixed(1)} %), ${upstream429} 429s`);
  }, 90_000);
});
