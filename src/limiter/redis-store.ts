import { randomUUID } from 'node:crypto';
import { realClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { Budgets } from './budgets.ts';
import type { LimiterConfig } from './config.ts';
import { DIMENSIONS, type Cost, type Dimension } from './cost.ts';
import { readRateLimitHeaders } from './header-sync.ts';
import { gcraDrain } from './gcra.ts';
import { MemoryStore } from './memory-store.ts';
import type { HeaderSource } from './outcome.ts';
import { scriptedRedis, type ScriptedRedis } from './redis-client.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { Admission, AdmitRequest, AsyncLimiterStore, StoreSnapshot } from './store.ts';

export interface RedisStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`), or a URL: redis://127.0.0.1:6379, or a Redis
   * Cluster's nodes as redis+cluster://10.0.0.1:6379,10.0.0.2:6379. The keys share the
   * `{name}` hash tag, so one account's state lives in one slot.
   */
  redis: RedisConnection | string;
  budgets: LimiterConfig['budgets'];
  /** Namespace of the shared account: replicas with the same name share its limits. Default `default`. */
  name?: string;
  prefix?: string;
  /** A crashed replica's concurrency slots come back after this long. Default 15 s. */
  leaseTtlMs?: number;
  /** Lease renewal and replica heartbeat. Default 1 s. */
  heartbeatMs?: number;
  /** How soon to ask again when another replica goes first or all slots are taken. Default 25 ms. */
  pollMs?: number;
  /** How long the first connection may take before the store starts on its local share. Default 3 s. */
  connectTimeoutMs?: number;
  clock?: Clock;
  replicaId?: string;
}

type Mode = 'redis' | 'fallback';

/**
 * Budgets, concurrency leases and the account-wide pause in Redis, shared by every replica.
 * While Redis is unreachable each replica runs on a local 1/N share (N = replicas last seen
 * alive), starting spent so it paces rather than bursts; when Redis answers again it hands
 * back control and adds what it used locally to the shared budgets.
 */
export class RedisStore implements AsyncLimiterStore {
  readonly kind = 'redis';
  readonly synchronous = false;
  readonly replicaId: string;
  private readonly redis: ScriptedRedis;
  private readonly ownsConnection: boolean;
  private readonly keys: { tat: string; leases: string; pause: string; waiting: string; seen: string; replicas: string };
  private readonly local: Budgets;
  private readonly clock: Clock;
  private readonly leaseTtlMs: number;
  private readonly pollMs: number;
  private readonly stateTtlMs: number;
  private readonly leases = new Set<string>();
  private mode: Mode = 'redis';
  private fallback: MemoryStore | undefined;
  private usedInFallback: Cost = { rpm: 0, ipm: 0, tpm: 0 };
  private liveReplicas = 1;
  private serverOffset = 0;
  private pausedUntil = 0;
  private tats: Partial<Record<Dimension, number>> = {};
  private waitingPriority: number | undefined;
  private heartbeat: TimerHandle | undefined;
  private probing = false;
  private closed = false;
  private readonly connected: Promise<void>;
  private isConnected = false;

  constructor(private readonly options: RedisStoreOptions) {
    this.clock = options.clock ?? realClock;
    this.ownsConnection = typeof options.redis === 'string';
    this.redis = scriptedRedis(options.redis);
    this.replicaId = options.replicaId ?? randomUUID();
    const base = `${options.prefix ?? 'ratelab'}:{${options.name ?? 'default'}}`;
    this.keys = { tat: `${base}:tat`, leases: `${base}:leases`, pause: `${base}:pause`, waiting: `${base}:waiting`, seen: `${base}:waiting-seen`, replicas: `${base}:replicas` };
    this.local = new Budgets(options.budgets, this.clock.now());
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
    this.pollMs = options.pollMs ?? 25;
    this.stateTtlMs = Math.max(options.budgets.window * 2, 60_000);
    // Nothing counts as "Redis is down" before the first connection had its chance.
    this.connected = this.ready(options.connectTimeoutMs ?? 3000).then(
      () => this.scheduleHeartbeat(0),
      () => {
        this.enterFallback();
        this.scheduleHeartbeat(this.options.heartbeatMs ?? 1000);
      },
    );
  }

  /**
   * Resolves once Redis answers (or rejects after `timeoutMs`); the store waits for this itself.
   * Wall time on purpose, the one exception to the injected clock: this waits for a real socket,
   * which a virtual clock (standing still between timers) could never time out.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.redis.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  get usingFallback(): boolean {
    return this.mode === 'fallback';
  }

  async admit(req: AdmitRequest): Promise<Admission> {
    if (!this.isConnected) {
      await this.connected;
      this.isConnected = true;
    }
    if (this.mode === 'fallback') return this.admitLocally(req);
    const args: (string | number)[] = [this.keys.tat, this.keys.leases, this.keys.pause, this.keys.waiting, this.keys.seen];
    const lease = `${this.replicaId}:${randomUUID()}`;
    const dims = this.dimArgs(req.cost);
    args.push(lease, this.leaseTtlMs, req.concurrencyLimit, req.priority, this.replicaId, this.stateTtlMs, this.pollMs, dims.length / 4, ...dims);
    let reply: [number, string, string?];
    try {
      reply = await this.redis.ratelabAdmit(...args);
    } catch {
      this.enterFallback();
      return this.admitLocally(req);
    }
    if (reply[0] === 1) {
      this.leases.add(lease);
      return { ok: true, lease };
    }
    const wait = reply[2] === 'inf' ? Infinity : Number(reply[2]);
    return { ok: false, reason: reply[1] as Exclude<Admission, { ok: true }>['reason'], waitMs: wait };
  }

  async release(lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): Promise<void> {
    if (lease.startsWith('local:')) return this.fallback?.release(lease, actual, reserved, now);
    this.leases.delete(lease);
    const args: (string | number)[] = [];
    for (const dim of DIMENSIONS) {
      const p = this.local.params(dim);
      const value = actual?.[dim];
      if (p && value !== undefined && value !== reserved[dim]) args.push(dim, value - reserved[dim], p.emission, p.tolerance);
    }
    try {
      await this.redis.ratelabRelease(this.keys.tat, this.keys.leases, lease, args.length / 4, ...args);
    } catch {
      // The lease expires by its TTL; a lost reconciliation errs on the safe side.
    }
  }

  async pause(untilMs: number): Promise<void> {
    const ms = Math.max(0, untilMs - this.clock.now());
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
    this.fallback?.pause(untilMs);
    try {
      await this.redis.ratelabPause(this.keys.pause, ms, this.stateTtlMs);
    } catch {
      this.enterFallback();
    }
  }

  async syncFromHeaders(headers: HeaderSource, now: number): Promise<void> {
    const args: (string | number)[] = [];
    for (const { dim, limit, remaining } of readRateLimitHeaders(headers, this.options.budgets.requestsHeader)) {
      if (limit !== undefined) this.local.learnLimit(dim, limit, now);
      const p = this.local.params(dim);
      if (p && remaining !== undefined) args.push(dim, remaining * this.options.budgets.safety, p.emission, p.tolerance);
    }
    this.fallback?.syncFromHeaders(headers, now);
    if (args.length === 0 || this.mode === 'fallback') return;
    try {
      await this.redis.ratelabClamp(this.keys.tat, args.length / 4, ...args);
    } catch {
      this.enterFallback();
    }
  }

  noteWaiting(bestPriority: number | undefined): void {
    if (bestPriority === this.waitingPriority) return;
    this.waitingPriority = bestPriority;
    if (bestPriority === undefined && this.mode === 'redis') {
      this.redis.zrem(this.keys.waiting, this.replicaId).catch(() => undefined);
    }
  }

  snapshot(now: number): StoreSnapshot {
    if (this.mode === 'fallback' && this.fallback) {
      const local = this.fallback.snapshot(now);
      return { ...local, inFlight: this.leases.size + local.inFlight };
    }
    const remaining: Partial<Record<Dimension, number>> = {};
    const limits: Partial<Record<Dimension, number>> = {};
    const serverNow = now + this.serverOffset;
    for (const dim of DIMENSIONS) {
      const p = this.local.params(dim);
      if (!p) continue;
      limits[dim] = this.local.limitOf(dim)!;
      remaining[dim] = Math.max(0, (p.tolerance - Math.max(0, (this.tats[dim] ?? 0) - serverNow)) / p.emission);
    }
    return { inFlight: this.leases.size, pausedUntil: this.pausedUntil, remaining, limits };
  }

  drainMs(cost: Cost, now: number): number {
    if (this.mode === 'fallback' && this.fallback) return this.fallback.drainMs(cost, now);
    const serverNow = now + this.serverOffset;
    let wait = Math.max(0, this.pausedUntil - now);
    for (const dim of DIMENSIONS) {
      const p = this.local.params(dim);
      if (p && cost[dim] > 0) wait = Math.max(wait, gcraDrain({ tat: this.tats[dim] ?? 0 }, p, cost[dim], serverNow));
    }
    return wait;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.heartbeat?.cancel();
    try {
      await this.redis.zrem(this.keys.replicas, this.replicaId);
      await this.redis.zrem(this.keys.waiting, this.replicaId);
    } catch {
      // gone anyway
    }
    if (this.ownsConnection) this.redis.disconnect();
  }

  private dimArgs(cost: Cost): (string | number)[] {
    const out: (string | number)[] = [];
    for (const dim of DIMENSIONS) {
      const p = this.local.params(dim);
      if (p && cost[dim] > 0) out.push(dim, cost[dim], p.emission, p.tolerance);
    }
    return out;
  }

  private admitLocally(req: AdmitRequest): Admission {
    const share = Math.max(1, Math.floor(req.concurrencyLimit / this.liveReplicas));
    const answer = this.fallback!.admit({ ...req, concurrencyLimit: share });
    if (!answer.ok) return answer;
    for (const dim of DIMENSIONS) this.usedInFallback[dim] += req.cost[dim];
    return { ok: true, lease: `local:${answer.lease}` };
  }

  private enterFallback(): void {
    if (this.mode === 'fallback' || this.closed) return;
    this.mode = 'fallback';
    const n = this.liveReplicas;
    const shared = this.options.budgets;
    const share = (dim: Dimension) => {
      const limit = this.local.limitOf(dim);
      return limit === undefined ? undefined : { limit: Math.max(1, Math.floor(limit / n)), burst: shared[dim]?.burst === undefined ? undefined : shared[dim]!.burst! / n };
    };
    this.fallback = new MemoryStore({ ...shared, rpm: share('rpm'), ipm: share('ipm'), tpm: share('tpm') }, this.clock.now(), false);
    this.fallback.pause(this.pausedUntil);
    this.usedInFallback = { rpm: 0, ipm: 0, tpm: 0 };
    this.probe();
  }

  /**
   * Pings until Redis answers, then charges what was used locally (the shared budget comes
   * back at least spent) and only then hands control back.
   */
  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    const retry = (): void => {
      if (!this.closed) this.clock.setTimer(() => void attempt(), 250);
    };
    const attempt = async (): Promise<void> => {
      const used = this.usedInFallback;
      const args: (string | number)[] = [];
      for (const dim of DIMENSIONS) {
        const p = this.local.params(dim);
        if (p) args.push(dim, used[dim], p.emission, p.tolerance);
      }
      try {
        await this.redis.ping();
        if (args.length) await this.redis.ratelabResume(this.keys.tat, args.length / 4, ...args);
      } catch {
        return retry();
      }
      this.probing = false;
      this.mode = 'redis';
    };
    void attempt();
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (this.closed) return;
    this.heartbeat = this.clock.setTimer(() => void this.beat(), delayMs);
  }

  private async beat(): Promise<void> {
    try {
      const [live, serverNow, paused, flat] = await this.redis.ratelabHeartbeat(
        this.keys.leases,
        this.keys.replicas,
        this.keys.tat,
        this.keys.pause,
        this.replicaId,
        this.leaseTtlMs,
        this.stateTtlMs,
        ...this.leases,
      );
      this.liveReplicas = Math.max(1, live);
      this.serverOffset = Number(serverNow) - this.clock.now();
      this.pausedUntil = Math.max(this.pausedUntil, Number(paused) - this.serverOffset);
      const tats: Partial<Record<Dimension, number>> = {};
      for (let i = 0; i < flat.length; i += 2) tats[flat[i] as Dimension] = Number(flat[i + 1]);
      this.tats = tats;
    } catch {
      if (this.leases.size > 0 || this.mode === 'redis') this.enterFallback();
    }
    this.scheduleHeartbeat(this.options.heartbeatMs ?? 1000);
  }
}
