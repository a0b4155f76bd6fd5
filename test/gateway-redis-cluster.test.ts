import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import type { JobView } from '../src/gateway/jobs/types.ts';
import { GatewayProcess } from './support/gateway-process.ts';
import { RedisCluster } from './support/redis-cluster.ts';
import { haveRedisServer, requireRedisInCi } from './support/redis-server.ts';
import { expectReplicasWithinLimits } from './support/replica-limits.ts';

requireRedisInCi();

const auth = { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' };

function writeConfig(content: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ratelab-gw-')), 'gateway.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const post = (base: string, path: string, body: object) => fetch(`${base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
const getJob = async (base: string, id: string) => (await (await fetch(`${base}/jobs/${id}`, { headers: auth })).json()) as JobView;

/** A job's whole story from its event stream (replayed from Redis on any replica). */
async function events(base: string, id: string): Promise<{ type: string }[]> {
  const text = await (await fetch(`${base}/jobs/${id}/events`, { headers: auth })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string });
}

/** Every key on every master that matches `pattern` (KEYS on a cluster client asks one node only). */
async function keysOnMasters(client: Cluster, pattern: string): Promise<string[]> {
  const per = await Promise.all(client.nodes('master').map((n) => n.keys(pattern)));
  return per.flat();
}

describe.skipIf(!haveRedisServer())('gateway on a Redis Cluster (three masters, three replicas), real processes', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let mock: RunningMockServer;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
    client = cluster.client();
    mock = await startMockServer({ profile: 'openai', timeScale: 0.02, seed: 21 });
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await mock?.close();
    await cluster?.stop();
  });

  it('two gateway replicas keep one account within its limits; its state sits in one slot', { timeout: 60_000 }, async () => {
    const config = writeConfig({ jobs: { prefix: 'cluster-limits' }, limiter: { budgets: { ipm: { limit: 20 } }, queue: { maxWait: '10m', maxSize: 500 } } });
    const outputs = await expectReplicasWithinLimits(cluster.url, config, 22);
    // The shared budget is in the cluster, all of the account's keys in the slot of its hash tag.
    const keys = await keysOnMasters(client, 'cluster-limits:limiter:*');
    expect(keys).toContain('cluster-limits:limiter:{default}:tat');
    expect(new Set(await Promise.all(keys.map((k) => client.cluster('KEYSLOT', k)))).size).toBe(1);
    for (const out of outputs) expect(out).toContain('BullMQ on REDIS_URL, a Redis Cluster (6 seed nodes)');
  });

  it("every job ends exactly once across a crash of the master that holds the queue, and the limiter keeps serving", { timeout: 120_000 }, async () => {
    const prefix = 'cluster-jobs';
    const config = writeConfig({ jobs: { prefix, lockDuration: 2_000, maxAttempts: 3, backoff: '1s' }, redis: { leaseTtl: 2_000 }, limiter: { concurrency: { mode: 'fixed', limit: 4 } } });
    const env = { REDIS_URL: cluster.url, UPSTREAM_API_KEY: 'sk-tier5-cluster-jobs', TIME_SCALE: '0.02' };
    // Slower generations (~1 s each here), so jobs are running when the master goes.
    await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', factor: 4 }) });
    const replicas = await Promise.all([0, 1].map(() => GatewayProcess.start(['--upstream', mock.baseURL, '--config', config], env)));
    try {
      const n = 24;
      const submitted = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await post(replicas[i % 2]!.baseURL, '/jobs/images', { prompt: `cluster job ${i}`, quality: 'low', output_format: 'webp' });
          expect(res.status).toBe(202);
          return (await res.json()) as JobView;
        }),
      );
      // The queue's keys share the hash tag {cluster-jobs}: one master holds every job.
      const queueMaster = await cluster.masterOf(`{${prefix}}`);
      expect((await keysOnMasters(client, `{${prefix}}:images:*`)).length).toBeGreaterThan(0);
      const base = replicas[0]!.baseURL;
      for (const stop = Date.now() + 20_000; Date.now() < stop; ) {
        const views = await Promise.all(submitted.map((j) => getJob(base, j.id)));
        if (views.some((v) => v.status === 'running') && views.some((v) => v.status === 'succeeded')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await cluster.crashMaster(queueMaster);
      expect(await cluster.masterOf(`{${prefix}}`)).not.toBe(queueMaster);
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });

      let views: JobView[] = [];
      for (const stop = Date.now() + 60_000; Date.now() < stop; ) {
        views = await Promise.all(submitted.map((j) => getJob(replicas[1]!.baseURL, j.id)));
        if (views.every((v) => v.status === 'succeeded' || v.dead_letter)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(views.filter((v) => v.status === 'succeeded').length + views.filter((v) => v.dead_letter).length).toBe(n);
      // Exactly once: each story has one terminal event, and it is the last.
      for (const v of views) {
        const story = await events(base, v.id);
        const terminal = story.filter((e) => e.type === 'succeeded' || e.type === 'failed' || e.type === 'cancelled');
        expect(terminal, `${v.id}: ${JSON.stringify(story)}`).toHaveLength(1);
        expect(story.at(-1)).toEqual(terminal[0]);
      }
      // The limiter's store came back to the promoted master: sync requests pass on both replicas.
      for (const r of replicas) expect((await post(r.baseURL, '/images/generations', { prompt: 'after failover', quality: 'low' })).status).toBe(200);
    } finally {
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
      for (const r of replicas) r.kill('SIGTERM');
      const codes = await Promise.all(replicas.map((r) => r.exited));
      expect(codes).toEqual([0, 0]);
    }
  });
});
