import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import type { JobView } from '../src/gateway/jobs/types.ts';
import { haveRedisServer, PrivateRedis, requireRedisInCi } from './support/redis-server.ts';

requireRedisInCi();

class Lines extends Writable {
  raw = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.raw += chunk.toString();
    done();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The gateway tells its operator which Redis it runs jobs on: one that persists every
 * write and never evicts, or one that can lose jobs on a restart or under memory pressure
 * (readyz says so, a metric carries it, the log warns). With AOF on, a Redis killed with
 * SIGKILL mid-run and restarted loses no job: every accepted job ends exactly once.
 */
describe.skipIf(!haveRedisServer())('jobs on Redis: durability', () => {
  let mock: RunningMockServer;
  beforeAll(async () => {
    mock = await startMockServer({ profile: loadProfile('openai', { latency: { p50: '30s', p95: '30s', p99: '30s', min: 0 }, pool: { background: { kind: 'none' } } }), timeScale: 0.01 });
  });
  afterAll(() => mock.close());

  async function gatewayOn(redis: PrivateRedis, log: Lines, prefix: string): Promise<RunningGateway> {
    return startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-durable', timeScale: 0.01, redisUrl: redis.url, config: { jobs: { prefix } }, logLevel: 'info', logDestination: log });
  }
  const readyz = async (g: RunningGateway) => (await (await fetch(`${g.url}/readyz`)).json()) as { status: string; warnings: string[]; jobStore?: Record<string, unknown> };
  const metric = async (g: RunningGateway) => Number(/ratelab_gateway_job_store_durable (-?\d+)/.exec(await (await fetch(`${g.url}/metrics`)).text())![1]);

  it('says so when Redis does not persist or may evict jobs, and stays quiet when it keeps them', { timeout: 30_000 }, async () => {
    const volatile = await PrivateRedis.start(['--maxmemory-policy', 'allkeys-lru']);
    const durable = await PrivateRedis.start(['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction']);
    const logs = [new Lines(), new Lines()];
    const [risky, safe] = [await gatewayOn(volatile, logs[0]!, 'd1'), await gatewayOn(durable, logs[1]!, 'd2')];
    try {
      await sleep(300);
      const r = await readyz(risky);
      expect(r.status).toBe('ready');
      expect(r.warnings.join(' ')).toMatch(/appendonly is no: a Redis restart loses every queued and finished job/);
      expect(r.warnings.join(' ')).toMatch(/maxmemory-policy is allkeys-lru/);
      expect(await metric(risky)).toBe(0);
      expect(logs[0]!.raw).toMatch(/"level":40.*Jobs on Redis are at risk/);
      const s = await readyz(safe);
      expect(s.warnings).toEqual([]);
      expect(s.jobStore).toMatchObject({ persists: true, evicts: false });
      expect(await metric(safe)).toBe(1);
      expect(logs[1]!.raw).not.toContain('at risk');
    } finally {
      await Promise.all([risky.close(500), safe.close(500)]);
      await Promise.all([volatile.kill(), durable.kill()]);
    }
  });

  it('with AOF on, a Redis killed with SIGKILL mid-run and restarted loses no job: each ends exactly once', { timeout: 90_000 }, async () => {
    const redis = await PrivateRedis.start(['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction']);
    const gateway = await gatewayOn(redis, new Lines(), 'd3');
    try {
      const post = () =>
        fetch(`${gateway.url}/v1/jobs/images`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-image-2', prompt: 'durable', quality: 'low' }) });
      const ids = await Promise.all(Array.from({ length: 20 }, async () => ((await (await post()).json()) as JobView).id));
      await sleep(100);
      await redis.kill();
      await sleep(500);
      await redis.start();
      const views = new Map<string, JobView>();
      for (let i = 0; i < 400 && views.size < ids.length; i++) {
        for (const id of ids) {
          if (views.has(id)) continue;
          const res = await fetch(`${gateway.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${DEV_CLIENT_KEY}` } }).catch(() => undefined);
          if (res?.status !== 200) continue;
          const view = (await res.json()) as JobView;
          if (view.status === 'succeeded' || view.status === 'failed') views.set(id, view);
        }
        await sleep(100);
      }
      expect([...views.values()].map((v) => v.status)).toEqual(Array(ids.length).fill('succeeded'));
      for (const id of ids) {
        const events = await (await fetch(`${gateway.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${DEV_CLIENT_KEY}` } })).text();
        expect(events.match(/event: succeeded/g) ?? []).toHaveLength(1);
      }
    } finally {
      await gateway.close(500);
      await redis.kill();
    }
  });
});
