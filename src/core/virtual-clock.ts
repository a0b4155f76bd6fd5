import TinyQueue from 'tinyqueue';
import { abortReason, type Clock, type TimerHandle } from './clock.ts';

/** A timer is its own handle: no closure per timer (a simulation sets hundreds of thousands). */
class Timer implements TimerHandle {
  constructor(
    readonly at: number,
    readonly seq: number,
    public fn: (() => void) | null,
  ) {}

  cancel(): void {
    this.fn = null;
  }
}

/** 2026-01-01T00:00:00Z: a fixed epoch so seeded runs print identical timestamps. */
export const VIRTUAL_EPOCH_MS = 1_767_225_600_000;

const ONE_YEAR_MS = 365 * 24 * 3600_000;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Resolves once every microtask queued so far, and every one those queue, has run — without
 * a turn of the event loop. Node runs the tick queue only after the microtask queue is
 * empty, so a tick asked for from a microtask waits for the chains already running.
 */
const afterMicrotasks = (): Promise<void> => new Promise((resolve) => queueMicrotask(() => process.nextTick(resolve)));

/** How the clock lets the promise chains a timer woke run before it fires the next instant. */
export type Settle = 'event-loop' | 'microtasks';

export interface VirtualClockOptions {
  /** Epoch ms the clock starts at. Default `VIRTUAL_EPOCH_MS`. */
  startMs?: number;
  /**
   * `event-loop` (default): a macrotask per instant, so anything (streams, I/O callbacks,
   * ticks) settles first. `microtasks`: only promise chains settle between instants, and the
   * event loop turns once every 1 000 instants: for code that awaits nothing but promises
   * (the simulator), where the macrotask per instant was most of the clock's cost.
   */
  settle?: Settle;
}

/** With `settle: 'microtasks'`, instants between two turns of the event loop (so I/O and signals are not starved). */
const INSTANTS_PER_TURN = 1000;

/**
 * A discrete-event clock: time stands still until `advance*` moves it, and timers fire in
 * (time, insertion) order. Between timers it yields to the event loop so promise chains
 * woken by one timer run (and may schedule more) before the next one fires.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new TinyQueue<Timer>([], (a, b) => a.at - b.at || a.seq - b.seq);
  private readonly microtasksOnly: boolean;
  private instants = 0;

  constructor(options: number | VirtualClockOptions = {}) {
    const o = typeof options === 'number' ? { startMs: options } : options;
    this.current = o.startMs ?? VIRTUAL_EPOCH_MS;
    this.microtasksOnly = o.settle === 'microtasks';
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = new Timer(this.current + Math.max(0, ms), this.seq++, fn);
    this.timers.push(timer);
    return timer;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal === undefined) return new Promise((resolve) => void this.setTimer(resolve, ms));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        handle.cancel();
        reject(abortReason(signal!));
      };
      const handle = this.setTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of live (not cancelled) timers. */
  pendingTimers(): number {
    return this.timers.data.filter((t) => t.fn !== null).length;
  }

  /** Time of the next live timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    this.dropCancelled();
    return this.timers.peek()?.at;
  }

  /** Fires every timer due up to `this.now() + ms`, then leaves the clock there. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    await yieldToEventLoop();
    for (;;) {
      this.dropCancelled();
      const next = this.timers.peek();
      if (next === undefined || next.at > targetMs) break;
      this.fireDueAt(next.at);
      await this.settle();
    }
    this.current = Math.max(this.current, targetMs);
  }

  /**
   * Fires timers until none is left or `limitMs` of virtual time has passed. Returns the
   * virtual time it stopped at. Guards against a chain that reschedules itself forever.
   */
  async runAll(limitMs = ONE_YEAR_MS): Promise<number> {
    return this.runUntil(() => false, limitMs);
  }

  /**
   * Fires timers one instant at a time, yielding once after each so the promise chains it
   * woke run, until `done()` or no timer is left (or `limitMs` of virtual time has passed).
   * Returns the virtual time it stopped at. Driving a run with `advanceTo(nextTimerAt())`
   * yields twice per instant: a simulation spends a third of its time in those yields.
   */
  async runUntil(done: () => boolean, limitMs = ONE_YEAR_MS): Promise<number> {
    const stopAt = this.current + limitMs;
    await yieldToEventLoop();
    while (!done()) {
      const next = this.nextTimerAt();
      if (next === undefined || next > stopAt) break;
      this.fireDueAt(next);
      await this.settle();
    }
    return this.current;
  }

  private settle(): Promise<void> {
    if (!this.microtasksOnly || ++this.instants % INSTANTS_PER_TURN === 0) return yieldToEventLoop();
    return afterMicrotasks();
  }

  /** Fires all timers due at exactly `at` (including ones they schedule for the same time). */
  private fireDueAt(at: number): void {
    this.current = Math.max(this.current, at);
    for (;;) {
      const timer = this.timers.peek();
      if (timer === undefined || timer.at > at) return;
      this.timers.pop();
      const fn = timer.fn;
      timer.fn = null;
      fn?.();
    }
  }

  private dropCancelled(): void {
    while (this.timers.length > 0 && this.timers.peek()!.fn === null) this.timers.pop();
  }
}
