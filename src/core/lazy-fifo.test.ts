import { describe, expect, it } from 'vitest';
import { LazyFifo } from './lazy-fifo.ts';

interface Item {
  n: number;
  dead: boolean;
}

describe('LazyFifo', () => {
  it('returns live entries in order and skips the dead', () => {
    const q = new LazyFifo<Item>((i) => i.dead);
    const items = Array.from({ length: 5 }, (_, n) => ({ n, dead: false }));
    for (const i of items) q.push(i);
    items[0]!.dead = true;
    items[2]!.dead = true;
    expect(q.peek()?.n).toBe(1);
    expect([q.shift()?.n, q.shift()?.n, q.shift()?.n]).toEqual([1, 3, 4]);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });

  it('stays in order across compactions of a long run', () => {
    const q = new LazyFifo<Item>((i) => i.dead);
    const seen: number[] = [];
    for (let n = 0; n < 10_000; n++) {
      q.push({ n, dead: n % 3 === 0 });
      if (n % 2 === 1) seen.push(q.shift()!.n);
    }
    for (let i = q.shift(); i; i = q.shift()) seen.push(i.n);
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, n) => n).filter((n) => n % 3 !== 0));
    expect(q.peek()).toBeUndefined();
  });
});
