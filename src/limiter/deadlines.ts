import type { Clock, TimerHandle } from '../core/clock.ts';
import { LazyFifo } from '../core/lazy-fifo.ts';

interface Deadlined {
  deadline: number;
  /** -1 once the entry has left the queue (started, shed, cancelled). */
  index: number;
}

/**
 * Deadlines of queued tasks with one timer for all of them. Tasks that take the default
 * wait arrive in deadline order, so they sit in a FIFO; explicit deadlines go in a small
 * sorted list. Entries that left the queue are skipped when reached. A timer per task
 * (100k queued = 100k timers) was the largest cost of scheduling.
 */
export class Deadlines<T extends Deadlined> {
  private readonly fifo = new LazyFifo<T>((e) => e.index === -1);
  private explicit: T[] = [];
  private timer: { at: number; handle: TimerHandle } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly expire: (entry: T) => void,
  ) {}

  add(entry: T, inOrder: boolean): void {
    if (entry.deadline === Infinity) return;
    const last = this.fifo.last();
    if (inOrder && (last === undefined || last.deadline <= entry.deadline)) {
      this.fifo.push(entry);
    } else {
      let i = this.explicit.length;
      while (i > 0 && this.explicit[i - 1]!.deadline > entry.deadline) i--;
      this.explicit.splice(i, 0, entry);
    }
    // The armed timer already fires no later than this entry's deadline (the common case).
    if (this.timer && this.timer.at <= entry.deadline) return;
    this.arm();
  }

  clear(): void {
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.fifo.clear();
    this.explicit = [];
  }

  private next(): T | undefined {
    while (this.explicit.length > 0 && this.explicit[0]!.index === -1) this.explicit.shift();
    const a = this.fifo.peek();
    const b = this.explicit[0];
    if (!a) return b;
    if (!b) return a;
    return a.deadline <= b.deadline ? a : b;
  }

  private arm(): void {
    const first = this.next();
    if (!first) {
      this.timer?.handle.cancel();
      this.timer = undefined;
      return;
    }
    if (this.timer && this.timer.at <= first.deadline) return;
    this.timer?.handle.cancel();
    const at = first.deadline;
    this.timer = { at, handle: this.clock.setTimer(() => this.fire(), at - this.clock.now()) };
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let e = this.next(); e && e.deadline <= now; e = this.next()) {
      if (this.fifo.peek() === e) this.fifo.shift();
      else this.explicit.shift();
      this.expire(e);
    }
    this.arm();
  }
}
