import { spawnSync } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { PrivateRedis } from './redis-server.ts';

/** How long a silent master has before its replica takes over: short, so a failover fits in a test. */
const NODE_TIMEOUT_MS = 1000;

/**
 * A real Redis Cluster on loopback ports: three masters, each with one replica, made with
 * Debian's redis-server and `redis-cli --cluster create`, so a master can be killed and
 * its replica promoted.
 */
export class RedisCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  static async start(): Promise<RedisCluster> {
    // The bus port is chosen too: port + 10000, Redis's default, may be past 65535 or taken.
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const nodes = await Promise.all(
      Array.from({ length: 6 }, async () =>
        PrivateRedis.start([
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(NODE_TIMEOUT_MS)],
          ...['--cluster-port', String(ports.pop())],
          // A replica's first sync waits 5 s by default (for more replicas to join one transfer).
          ...['--repl-diskless-sync-delay', '0'],
        ]),
      ),
    );
    const cluster = new RedisCluster(nodes);
    const made = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
    if (made.status !== 0) throw new Error(`redis-cli --cluster create failed: ${made.stdout}${made.stderr}`);
    await cluster.waitHealthy();
    await cluster.waitReplicasInSync();
    return cluster;
  }

  /** Seed nodes, as the gateway's REDIS_URL takes them. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  /** A cluster client for the test's own reads. */
  client(): Cluster {
    const c = new Cluster(this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: 3 } });
    c.on('error', () => undefined);
    return c;
  }

  /** The port of the master that owns `key`'s slot now. */
  async masterOf(key: string): Promise<number> {
    for (const node of this.alive()) {
      const r = this.direct(node.port);
      try {
        const slot = Number(await r.cluster('KEYSLOT', key));
        const slots = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
        const range = slots.find(([from, to]) => slot >= from && slot <= to);
        if (range) return range[2][1];
      } catch {
        // ask another node
      } finally {
        r.disconnect();
      }
    }
    throw new Error(`no live node knows the master of ${key}`);
  }

  /** Kills the node on `port` (SIGKILL, as a crash) and waits until its replica has taken over and every slot is served. */
  async crashMaster(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    await node.kill();
    await this.waitHealthy(port);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }

  private alive(except?: number): PrivateRedis[] {
    return this.nodes.filter((n) => n.port !== except && n.running);
  }

  private direct(port: number): Redis {
    const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false });
    r.on('error', () => undefined);
    return r;
  }

  /** Asks `node` directly; false when it does not answer. */
  private async ask(port: number, check: (r: Redis) => Promise<boolean>): Promise<boolean> {
    const r = this.direct(port);
    try {
      return await check(r);
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }

  /** Polls until every one of `nodes` passes `check`, for up to 30 s. */
  private async untilEvery(nodes: () => PrivateRedis[], what: string, check: (r: Redis) => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await Promise.all(nodes().map((n) => this.ask(n.port, check)))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error(`the Redis Cluster: ${what} within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A replica that never finished its first sync cannot take over: wait for every link. */
  private waitReplicasInSync(): Promise<void> {
    return this.untilEvery(() => this.nodes, 'replicas did not sync', async (r) => {
      const info = String(await r.info('replication'));
      return info.includes('role:master') || info.includes('master_link_status:up');
    });
  }

  /** Every live node says the cluster is ok, all slots are served, and none by `dead`. */
  private waitHealthy(dead?: number): Promise<void> {
    return this.untilEvery(() => this.alive(dead), 'did not become healthy', async (r) => {
      const info = String(await r.cluster('INFO'));
      const slots = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      return info.includes('cluster_state:ok') && !slots.some((s) => s[2][1] === dead) && slots.reduce((a, [from, to]) => a + to - from + 1, 0) === 16384;
    });
  }
}
