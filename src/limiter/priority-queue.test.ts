import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { PriorityQueue, type QueueEntry } from './priority-queue.ts';

interface Item extends QueueEntry {
  name: string;
}
let seq = 0;
const item = (priority: number, name = `${priority}`): Item => ({ priority, seq: seq++, index: -1, name });

describe('PriorityQueue', () => {
  it('pops by priority, FIFO inside a level', () => {
    const q = new PriorityQueue<Item>();
    for (const [p, n] of [[2, 'a'], [0, 'b'], [2, 'c'], [1, 'd'], [0, 'e']] as const) q.push(item(p, n));
    expect(Array.from({ length: 5 }, () => q.pop()!.name)).toEqual(['b', 'e', 'd', 'a', 'c']);
    expect(q.pop()).toBeUndefined();
  });

  it('sums what waits at a priority and above, through pushes, returns, removals and pops', () => {
    const rng = createRng(9);
    const q = new PriorityQueue<Item>();
    const live = new Set<Item>();
    const recount = (p: number) => {
      const mine = [...live].filter((e) => e.priority <= p);
      return { count: mine.length, rpm: mine.length, ipm: mine.reduce((s, e) => s + e.cost!.ipm, 0), tpm: mine.reduce((s, e) => s + e.cost!.tpm, 0) };
    };
    const into = { count: 0, rpm: 0, ipm: 0, tpm: 0 };
    for (let step = 0; step < 3000; step++) {
      const r = rng.next();
      if (r < 0.5 || live.size === 0) {
        const e: Item = { ...item(rng.int(4)), cost: { rpm: 1, ipm: 1 + rng.int(4), tpm: 200 + rng.int(7000) } };
        if (r < 0.1) q.pushReturning(e);
        else q.push(e);
        live.add(e);
      } else if (r < 0.8) {
        const e = [...live][rng.int(live.size)]!;
        q.remove(e);
        live.delete(e);
      } else {
        live.delete(q.pop()!);
      }
      const p = rng.int(4);
      expect(q.ahead(p, into)).toEqual(recount(p));
    }
  });

  it('removes any entry and keeps the order of the rest', () => {
    const rng = createRng(5);
    const q = new PriorityQueue<Item>();
    const all = Array.from({ length: 5000 }, () => item(rng.int(4)));
    for (const e of all) q.push(e);
    const removed = new Set(all.filter(() => rng.next() < 0.3));
    for (const e of removed) expect(q.remove(e)).toBe(true);
    for (const e of removed) expect(q.remove(e)).toBe(false);
    expect(q.size).toBe(all.length - removed.size);
    const expected = all.filter((e) => !removed.has(e)).sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const popped: Item[] = [];
    for (let e = q.pop(); e; e = q.pop()) popped.push(e);
    expect(popped).toEqual(expected);
    expect(popped.every((e) => e.index === -1)).toBe(true);
  });

  it('puts a returning entry back ahead of fresh ones, by first arrival', () => {
    const q = new PriorityQueue<Item>();
    const old1 = item(1, 'old1');
    const old2 = item(1, 'old2');
    const fresh = item(1, 'fresh');
    q.push(fresh);
    q.pushReturning(old2);
    q.pushReturning(old1);
    expect([q.pop()!.name, q.pop()!.name, q.pop()!.name]).toEqual(['old1', 'old2', 'fresh']);
  });

  it('orders thousands of returning entries by first arrival, through removals and second returns', () => {
    const rng = createRng(11);
    const q = new PriorityQueue<Item>();
    const all = Array.from({ length: 3000 }, () => item(rng.int(3)));
    const fresh = all.filter(() => rng.next() < 0.2);
    const returning = all.filter((e) => !fresh.includes(e));
    for (const e of fresh) q.push(e);
    // A 429 storm sends them back in no particular order; some start again and return once more.
    for (const e of [...returning].sort(() => rng.next() - 0.5)) q.pushReturning(e);
    const again = returning.filter(() => rng.next() < 0.2);
    for (const e of again) q.remove(e);
    for (const e of again) q.pushReturning(e);
    const gone = new Set(returning.filter(() => rng.next() < 0.1));
    for (const e of gone) q.remove(e);
    expect(q.size).toBe(all.length - gone.size);
    // Within a level, returning and fresh entries merge by first arrival.
    const expected = all.filter((e) => !gone.has(e)).sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const popped: Item[] = [];
    for (let e = q.pop(); e; e = q.pop()) popped.push(e);
    expect(popped.map((e) => e.name + e.seq)).toEqual(expected.map((e) => e.name + e.seq));
  });

  it('counts by priority, knows the best one, and drains', () => {
    const q = new PriorityQueue<Item>();
    for (const p of [3, 1, 3, 3]) q.push(item(p));
    expect(q.countByPriority()).toEqual(new Map([[1, 1], [3, 3]]));
    expect(q.bestPriority()).toBe(1);
    expect(q.drain()).toHaveLength(4);
    expect(q.size).toBe(0);
    expect(q.bestPriority()).toBeUndefined();
  });
});
