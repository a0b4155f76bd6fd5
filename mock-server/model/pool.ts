import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import type { Profile } from '../profiles/schema.ts';
import { LazyFifo } from '../../src/core/lazy-fifo.ts';
import { backgroundUtilization } from './background.ts';
import { slowdownFactor } from './slowdown.ts';

export type AcquireResult =
  | { ok: true; waitedMs: number; slowdown: number; release: () => void }
  | { ok: false; reason: 'queue_full' | 'queue_timeout' | 'client_closed'; waitedMs: number };

interface Waiter {
  enqueuedAt: number;
  settle: (result: AcquireResult) => void;
  timeout?: TimerHandle;
  done: boolean;
}

export interface PoolState {
  slots: number;
  busy: number;
  background: number;
  queued: number;
  queueCapacity: number;
}

/**
 * The provider's GPU slots, shared by all accounts and by background tenants, with a
 * bounded FIFO wait queue. A request's slowdown is read from the profile's curve at the
 * occupancy it starts into (itself included), and a slot stays busy until generation ends
 * even when the client has gone: the GPU does not know.
 */
export class GpuPool {
  private busy = 0;
  /** Waiters that left (timeout, client gone) are marked done and skipped when reached. */
  private readonly waiting = new LazyFifo<Waiter>((w) => w.done);
  private live = 0;
  private recheck: TimerHandle | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly pool: Profile['pool'],
    private readonly clock: Clock,
    /** How often a queue blocked only by background load looks again (clock ms). */
    private readonly recheckMs: number,
  ) {
    this.startedAt = clock.now();
  }

  backgroundSlots(): number {
    return Math.floor(this.pool.slots * backgroundUtilization(this.pool.background, this.clock.now() - this.startedAt));
  }

  state(): PoolState {
    return { slots: this.pool.slots, busy: this.busy, background: this.backgroundSlots(), queued: this.queued(), queueCapacity: this.pool.queue };
  }

  queued(): number {
    return this.live;
  }

  /** `client.signal` is read only if the request has to wait (adapters make signals on demand). */
  acquire(client?: { readonly signal?: AbortSignal | undefined }): Promise<AcquireResult> | AcquireResult {
    if (this.live === 0 && this.hasFreeSlot()) return this.grant(this.clock.now());
    if (this.live >= this.pool.queue) return { ok: false, reason: 'queue_full', waitedMs: 0 };
    return new Promise((resolve) => {
      const waiter: Waiter = { enqueuedAt: this.clock.now(), settle: resolve, done: false };
      const leave = (reason: 'queue_timeout' | 'client_closed'): void => {
        if (waiter.done) return;
        waiter.done = true;
        this.live--;
        waiter.timeout?.cancel();
        resolve({ ok: false, reason, waitedMs: this.clock.now() - waiter.enqueuedAt });
      };
      if (this.pool.queueTimeout !== undefined) waiter.timeout = this.clock.setTimer(() => leave('queue_timeout'), this.pool.queueTimeout);
      const signal = client?.signal;
      if (signal?.aborted) return leave('client_closed');
      signal?.addEventListener('abort', () => leave('client_closed'), { once: true });
      this.waiting.push(waiter);
      this.live++;
      this.scheduleRecheck();
    });
  }

  private hasFreeSlot(): boolean {
    return this.busy + this.backgroundSlots() < this.pool.slots;
  }

  private grant(enqueuedAt: number): AcquireResult {
    this.busy++;
    const occupied = this.busy + this.backgroundSlots();
    let released = false;
    return {
      ok: true,
      waitedMs: this.clock.now() - enqueuedAt,
      slowdown: slowdownFactor(this.pool.slowdown, occupied),
      release: () => {
        if (released) return;
        released = true;
        this.busy--;
        this.drain();
      },
    };
  }

  private drain(): void {
    while (this.live > 0 && this.hasFreeSlot()) {
      const waiter = this.waiting.shift()!;
      waiter.done = true;
      this.live--;
      waiter.timeout?.cancel();
      waiter.settle(this.grant(waiter.enqueuedAt));
    }
    if (this.live > 0) this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    if (this.recheck !== undefined || this.pool.background.kind === 'none') return;
    this.recheck = this.clock.setTimer(() => {
      this.recheck = undefined;
      this.drain();
    }, this.recheckMs);
  }
}
