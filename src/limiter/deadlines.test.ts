import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { Deadlines } from './deadlines.ts';

interface Entry {
  name: string;
  deadline: number;
  defaultDeadline: boolean;
  index: number;
}

const entry = (name: string, deadline: number, defaultDeadline = false): Entry => ({ name, deadline, defaultDeadline, index: 0 });

/** As the limiter does: the entry starts (leaves the queue), fails, and comes back with a moved deadline. */
function retry(deadlines: Deadlines<Entry>, e: Entry, deadline: number): void {
  e.index = -1;
  e.deadline = deadline;
  e.defaultDeadline = false;
  e.index = 0;
  deadlines.add(e);
}

function setup() {
  const clock = new VirtualClock(0);
  const expired: { name: string; at: number }[] = [];
  const deadlines = new Deadlines<Entry>(clock, (e) => {
    e.index = -1;
    expired.push({ name: e.name, at: clock.now() });
  });
  return { clock, expired, deadlines };
}

describe('Deadlines', () => {
  it('expires explicit deadlines added in any order at their time, earliest first', async () => {
    const { clock, expired, deadlines } = setup();
    const rng = createRng(7);
    const entries = Array.from({ length: 500 }, (_, i) => entry(`e${i}`, 1 + Math.floor(rng.next() * 10_000)));
    for (const e of entries) deadlines.add(e);
    await clock.runAll();
    expect(expired).toHaveLength(500);
    for (const { name, at } of expired) expect(at).toBe(entries.find((e) => e.name === name)!.deadline);
    const times = expired.map((x) => x.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps default deadlines in a FIFO and merges them with explicit ones', async () => {
    const { clock, expired, deadlines } = setup();
    deadlines.add(entry('d1', 100, true));
    deadlines.add(entry('x1', 50));
    deadlines.add(entry('d2', 200, true));
    deadlines.add(entry('x2', 150));
    // Out of order for the FIFO: goes to the heap instead, and still expires on time.
    deadlines.add(entry('d0', 75, true));
    await clock.runAll();
    expect(expired).toEqual([
      { name: 'x1', at: 50 },
      { name: 'd0', at: 75 },
      { name: 'd1', at: 100 },
      { name: 'x2', at: 150 },
      { name: 'd2', at: 200 },
    ]);
  });

  it('skips entries that left the queue', async () => {
    const { clock, expired, deadlines } = setup();
    const gone = entry('gone', 10, true);
    const goneExplicit = entry('goneExplicit', 20);
    deadlines.add(gone);
    deadlines.add(goneExplicit);
    deadlines.add(entry('stays', 30));
    gone.index = -1;
    goneExplicit.index = -1;
    await clock.runAll();
    expect(expired).toEqual([{ name: 'stays', at: 30 }]);
  });

  it('a retried entry back in the queue with a later deadline does not hold back earlier ones', async () => {
    const { clock, expired, deadlines } = setup();
    const retried = entry('retried', 100, true);
    deadlines.add(retried);
    deadlines.add(entry('next', 200, true));
    deadlines.add(entry('explicit', 250));
    retry(deadlines, retried, 1_000);
    await clock.runAll();
    expect(expired).toEqual([
      { name: 'next', at: 200 },
      { name: 'explicit', at: 250 },
      { name: 'retried', at: 1_000 },
    ]);
  });

  it('keeps default deadlines in the FIFO after the last one in it was retried with a later deadline', async () => {
    const { clock, expired, deadlines } = setup();
    const tail = entry('tail', 100, true);
    deadlines.add(tail);
    retry(deadlines, tail, 10_000);
    for (let i = 1; i <= 1000; i++) deadlines.add(entry(`d${i}`, 100 + i, true));
    // Before, every later default deadline compared itself with the stale tail and went to the heap.
    expect((deadlines as unknown as { explicit: { length: number } }).explicit.length).toBe(1);
    await clock.runAll();
    expect(expired.map((e) => e.name)).toEqual([...Array.from({ length: 1000 }, (_, i) => `d${i + 1}`), 'tail']);
    expect(expired.every((e, i) => e.at === (i < 1000 ? 101 + i : 10_000))).toBe(true);
  });

  it('holds no timer once cleared', async () => {
    const { clock, expired, deadlines } = setup();
    deadlines.add(entry('a', 10));
    deadlines.add(entry('b', 20, true));
    deadlines.clear();
    expect(clock.pendingTimers()).toBe(0);
    await clock.runAll();
    expect(expired).toEqual([]);
  });
});
