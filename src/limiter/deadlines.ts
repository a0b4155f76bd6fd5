import TinyQueue from 'tinyqueue';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { LazyFifo } from '../core/lazy-fifo.ts';

interface Deadlined {
  deadline: number;
  /** Set by default (now + maxWait): such deadlines arrive in order. Cleared when the entry's deadline is moved. */
  defaultDeadline: boolean;
  /** -1 once the entry has left the queue (started, shed, cancelled). */
  index: number;
}

/** An explicit deadline as it was when added: a retried entry comes back with a new one. */
interface Explicit<T> {
  at: number;
  entry: T;
}

const byAt = (a: { at: number }, b: { at: number }): number => a.at - b.at;

/**
 * Deadlines of queued tasks with one timer for all of them. Tasks that take the default
 * wait arrive in deadline order, so they sit in a FIFO (O(1)); explicit deadlines and
 * retries (whose deadline moved) go in a binary heap (O(log n)). Entries that left the
 * queue, or whose deadline moved since, are skipped when reached. A timer per task
 * (100k queued = 100k timers) was the largest cost of scheduling.
 */
export class Deadlines<T extends Deadlined> {
  private readonly fifo = new LazyFifo<T>((e) => e.index === -1 || !e.defaultDeadline);
  private explicit = new TinyQueue<Explicit<T>>([], byAt);
  private timer: { at: number; handle: TimerHandle } | undefined;
  /** The deadline of the entry last put in the FIFO, as it was then (a retried entry's moves later). */
  private fifoTail = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly expire: (entry: T) => void,
  ) {}

  add(entry: T): void {
    if (entry.deadline === Infinity) return;
    if (entry.defaultDeadline && this.fifoTail <= entry.deadline) {
      this.fifo.push(entry);
      this.fifoTail = entry.deadline;
    } else {
      this.explicit.push({ at: entry.deadline, entry });
    }
    // The armed timer already fires no later than this entry's deadline (the common case).
    if (this.timer && this.timer.at <= entry.deadline) return;
    this.arm();
  }

  clear(): void {
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.fifo.clear();
    this.fifoTail = -Infinity;
    this.explicit = new TinyQueue<Explicit<T>>([], byAt);
  }

  /** The first live explicit deadline, dropping stale ones on the way. */
  private firstExplicit(): Explicit<T> | undefined {
    for (let top = this.explicit.peek(); top; top = this.explicit.peek()) {
      if (top.entry.index !== -1 && top.entry.deadline === top.at) return top;
      this.explicit.pop();
    }
    return undefined;
  }

  /** The earliest live deadline and where it sits. */
  private next(): { entry: T; inFifo: boolean } | undefined {
    const a = this.fifo.peek();
    const b = this.firstExplicit();
    if (!a) return b && { entry: b.entry, inFifo: false };
    if (!b || a.deadline <= b.at) return { entry: a, inFifo: true };
    return { entry: b.entry, inFifo: false };
  }

  private arm(): void {
    const first = this.next();
    if (!first) {
      this.timer?.handle.cancel();
      this.timer = undefined;
      return;
    }
    const at = first.entry.deadline;
    if (this.timer && this.timer.at <= at) return;
    this.timer?.handle.cancel();
    this.timer = { at, handle: this.clock.setTimer(() => this.fire(), at - this.clock.now()) };
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let e = this.next(); e && e.entry.deadline <= now; e = this.next()) {
      if (e.inFifo) this.fifo.shift();
      else this.explicit.pop();
      this.expire(e.entry);
    }
    this.arm();
  }
}
