/**
 * A FIFO whose entries may die while queued (cancelled, timed out, started elsewhere):
 * removal is O(1) by marking, and dead entries are dropped when they reach the front.
 * The array is compacted once more than half of it is spent, so memory stays bounded.
 */
export class LazyFifo<T> {
  private items: T[] = [];
  private head = 0;

  constructor(private readonly isDead: (item: T) => boolean) {}

  push(item: T): void {
    this.items.push(item);
  }

  /** The first live entry, or undefined. */
  peek(): T | undefined {
    const items = this.items;
    while (this.head < items.length && this.isDead(items[this.head]!)) this.head++;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
      return undefined;
    }
    if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return this.items[this.head];
  }

  /** Takes the first live entry off the queue. */
  shift(): T | undefined {
    const first = this.peek();
    if (first !== undefined) this.head++;
    return first;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
