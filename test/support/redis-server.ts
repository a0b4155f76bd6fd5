import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

/** True when a redis-server binary is installed (.ci/run installs it; CI must not skip). */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export function requireRedisInCi(): void {
  if (process.env.CI === 'true' && !haveRedisServer()) throw new Error('CI=true but no redis-server binary: .ci/run must install it');
}

/**
 * A private redis-server on a free loopback port, so tests can kill and restart it without
 * touching the machine's shared Redis.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ratelab-redis-'));
  constructor(
    readonly port: number,
    /** More redis-server arguments, after the defaults (later ones win): e.g. `--appendonly yes`. */
    private readonly extra: string[] = [],
  ) {}

  static async start(extra: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), extra);
    await redis.start();
    return redis;
  }

  /** Started and not killed. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extra], { stdio: 'ignore' });
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL: the way a crash looks to clients. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}
