import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import type { Profile } from '../profiles/schema.ts';
import { GpuPool, type AcquireResult } from './pool.ts';

const basePool: Profile['pool'] = {
  slots: 2,
  queue: 2,
  slowdown: [
    [0, 1],
    [2, 1.5],
  ],
  background: { kind: 'none' },
  contention: { status: 503 },
};

const granted = (r: AcquireResult): Extract<AcquireResult, { ok: true }> => {
  if (!r.ok) throw new Error(`expected a slot, got ${r.reason}`);
  return r;
};

describe('GpuPool', () => {
  it('grants free slots at once, queues FIFO beyond them and refuses when the queue is full', async () => {
    const clock = new VirtualClock(0);
    const pool = new GpuPool(basePool, clock, 1000);
    const a = granted(await pool.acquire());
    const b = granted(await pool.acquire());
    expect(a.slowdown).toBeCloseTo(1.25);
    expect(b.slowdown).toBeCloseTo(1.5);
    const order: string[] = [];
    const c = Promise.resolve(pool.acquire()).then((r) => (order.push('c'), r));
    const d = Promise.resolve(pool.acquire()).then((r) => (order.push('d'), r));
    expect(await pool.acquire()).toEqual({ ok: false, reason: 'queue_full', waitedMs: 0 });
    expect(pool.state()).toMatchObject({ busy: 2, queued: 2 });
    await clock.advance(100);
    a.release();
    a.release();
    const cResult = granted(await c);
    expect(cResult.waitedMs).toBe(100);
    expect(pool.state()).toMatchObject({ busy: 2, queued: 1 });
    b.release();
    granted(await d);
    expect(order).toEqual(['c', 'd']);
  });

  it('times waiters out and lets clients leave the queue', async () => {
    const clock = new VirtualClock(0);
    const pool = new GpuPool({ ...basePool, slots: 1, queue: 5, queueTimeout: 50 }, clock, 1000);
    const holder = granted(await pool.acquire());
    const timedOut = pool.acquire();
    const controller = new AbortController();
    const leaving = pool.acquire({ signal: controller.signal });
    await clock.advance(10);
    controller.abort();
    expect(await leaving).toEqual({ ok: false, reason: 'client_closed', waitedMs: 10 });
    await clock.advance(40);
    expect(await timedOut).toEqual({ ok: false, reason: 'queue_timeout', waitedMs: 50 });
    expect(pool.state().queued).toBe(0);
    holder.release();
    expect(pool.state().busy).toBe(0);
  });

  it('counts background tenants against the slots and wakes the queue when they leave', async () => {
    const clock = new VirtualClock(0);
    const spiky = { kind: 'spiky', base: 0, peak: 1, every: 1000, duration: 500 } as const;
    const pool = new GpuPool({ ...basePool, background: spiky }, clock, 10);
    await clock.advance(600);
    expect(pool.state().background).toBe(2);
    const waiting = pool.acquire();
    expect(pool.state().queued).toBe(1);
    await clock.advance(400);
    const result = granted(await waiting);
    expect(result.waitedMs).toBe(400);
  });
});
