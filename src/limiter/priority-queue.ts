/**
 * A binary heap ordered by (priority, sequence): priority levels, FIFO inside a level,
 * O(log n) push, pop and removal of any entry (each entry knows its index). Hand-written
 * because removal by handle is what cancellation and deadlines need, and the npm heaps
 * (tinyqueue, heap-js) either lack it or make it O(n) — p-queue's priority insert is an
 * O(n) splice, which is why it falls to ~13k ops/s with 100k queued.
 */
export interface HeapEntry {
  priority: number;
  seq: number;
  /** Position in the heap; -1 when not queued. */
  index: number;
}

const before = (a: HeapEntry, b: HeapEntry): boolean => a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq);

export class PriorityQueue<T extends HeapEntry> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  push(entry: T): void {
    entry.index = this.heap.length;
    this.heap.push(entry);
    this.up(entry.index);
  }

  pop(): T | undefined {
    const top = this.heap[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Removes `entry` if it is queued; returns whether it was. */
  remove(entry: T): boolean {
    const i = entry.index;
    if (i < 0 || this.heap[i] !== entry) return false;
    this.removeAt(i);
    return true;
  }

  /** Count of queued entries at each priority (for metrics; O(n), call at scrape time). */
  countByPriority(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const e of this.heap) counts.set(e.priority, (counts.get(e.priority) ?? 0) + 1);
    return counts;
  }

  /** Best (lowest) priority value queued. */
  bestPriority(): number | undefined {
    return this.heap[0]?.priority;
  }

  drain(): T[] {
    const all = this.heap.splice(0, this.heap.length);
    for (const e of all) e.index = -1;
    return all;
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i]!;
    const last = heap.pop()!;
    removed.index = -1;
    if (i === heap.length) return;
    heap[i] = last;
    last.index = i;
    if (i > 0 && before(last, heap[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(item, p)) break;
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = item;
    item.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      const c = heap[child]!;
      if (!before(c, item)) break;
      heap[i] = c;
      c.index = i;
      i = child;
    }
    heap[i] = item;
    item.index = i;
  }
}
