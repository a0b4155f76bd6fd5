import type { Clock, TimerHandle } from '../core/clock.ts';

export interface IterationContext {
  /** 1-based VU id, unique across the run (k6's __VU). */
  vu: number;
  /** 0-based iteration of this VU in this scenario (k6's __ITER). */
  iteration: number;
  /** 0-based number of this iteration in its scenario, across VUs, in the order they start (k6's `exec.scenario.iterationInTest`; a dropped arrival takes none). */
  iterationInTest: number;
  scenario: string;
  /** When the iteration was due (arrival-rate) or started (closed model): latency from the intended start counts from here. */
  scheduledAt: number;
  /** Aborts when the iteration is interrupted (gracefulStop, gracefulRampDown, abortOnFail). */
  signal: AbortSignal;
}

export type IterationFn = (ctx: IterationContext) => Promise<void>;

/** What an executor needs from the engine. */
export interface ExecutorRuntime {
  clock: Clock;
  scenario: string;
  exec: IterationFn;
  vus: VuCounter;
  /** Aborts on abortOnFail or a user's stop: executors stop starting and interrupt what runs. */
  stopped: AbortSignal;
  dropped(): void;
  /** An iteration started (offered load, for time series). */
  started(): void;
  /** A finished iteration (interrupted ones included, flagged). */
  iterationDone(d: { durationMs: number; fromIntendedMs: number; interrupted: boolean; errored: boolean }): void;
}

/** The run's VUs across scenarios: k6's `vus` (busy) and `vus_max` (initialized). */
export class VuCounter {
  private nextId = 1;
  busy = 0;
  initialized = 0;

  create(): number {
    this.initialized++;
    return this.nextId++;
  }
}

/**
 * One iteration's context, with its AbortSignal made on first read: a signal per iteration
 * was ~5 % of a simulated run's CPU, and iterations that never read it cannot observe it.
 */
class Iteration implements IterationContext {
  interrupted = false;
  /** Settles when the iteration has ended and been counted. */
  done: Promise<void> | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly vu: number,
    readonly iteration: number,
    readonly iterationInTest: number,
    readonly scenario: string,
    readonly scheduledAt: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.interrupted) this.controller.abort();
    }
    return this.controller.signal;
  }

  interrupt(): void {
    this.interrupted = true;
    this.controller?.abort();
  }
}

const doneOf = (ctx: Iteration): Promise<void> | undefined => ctx.done;

/**
 * Runs iterations and remembers the ones in flight, so a scenario can give them a grace
 * period and then interrupt them, as k6's gracefulStop does.
 */
export class IterationRunner {
  private readonly running = new Set<Iteration>();
  private readonly perVu = new Map<number, number>();
  private readonly current = new Map<number, Iteration>();
  private startedInTest = 0;

  constructor(private readonly rt: ExecutorRuntime) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** Starts one iteration on `vu`; `onDone` runs as it ends, before the promise settles (one callback, not a `finally` chain per iteration). */
  start(vu: number, scheduledAt: number, onDone?: (vu: number) => void): Promise<void> {
    const iteration = this.perVu.get(vu) ?? 0;
    this.perVu.set(vu, iteration + 1);
    const ctx = new Iteration(vu, iteration, this.startedInTest++, this.rt.scenario, scheduledAt);
    this.running.add(ctx);
    this.current.set(vu, ctx);
    this.rt.vus.busy++;
    this.rt.started();
    ctx.done = this.run(ctx, this.rt.clock.now(), onDone);
    return ctx.done;
  }

  private async run(ctx: Iteration, startedAt: number, onDone: ((vu: number) => void) | undefined): Promise<void> {
    let errored = false;
    try {
      await this.rt.exec(ctx);
    } catch {
      // k6 logs an iteration's exception and goes on; the iteration still ends.
      errored = true;
    }
    try {
      const now = this.rt.clock.now();
      this.rt.vus.busy--;
      this.rt.iterationDone({ durationMs: now - startedAt, fromIntendedMs: now - ctx.scheduledAt, interrupted: ctx.interrupted, errored });
    } finally {
      this.running.delete(ctx);
      if (this.current.get(ctx.vu) === ctx) this.current.delete(ctx.vu);
      onDone?.(ctx.vu);
    }
  }

  /** Waits up to `graceMs` for running iterations, then interrupts the rest and waits for them to end. */
  async drain(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    const all = Promise.allSettled([...this.running].map(doneOf));
    let timer: { cancel(): void } | undefined;
    const grace = new Promise<void>((resolve) => (timer = this.rt.clock.setTimer(resolve, graceMs)));
    await Promise.race([all, grace]);
    timer?.cancel();
    this.interruptAll();
    await Promise.allSettled([...this.running].map(doneOf));
  }

  /** Interrupts one VU's running iteration (gracefulRampDown). */
  interruptVu(vu: number): void {
    this.current.get(vu)?.interrupt();
  }

  interruptAll(): void {
    for (const ctx of this.running) ctx.interrupt();
  }
}

const STOPPED = Promise.resolve(false);
const DUE = Promise.resolve(true);

/**
 * Sleeps an executor until instants on its clock, woken early by the stop signal: one abort
 * listener for the executor's life rather than one per sleep (an arrival-rate scenario
 * sleeps once per arrival, and a listener added and removed each time was ~2 % of a
 * simulation's CPU). One sleep at a time. Never wakes before `at`: a real timer may fire
 * a fraction of a millisecond early, and an iteration started early would be measured
 * from before its due time.
 */
export class Pacer {
  private timer: TimerHandle | undefined;
  private wake: ((due: boolean) => void) | undefined;
  private target = 0;

  constructor(
    private readonly clock: Clock,
    private readonly stopped: AbortSignal,
  ) {
    stopped.addEventListener('abort', this.onStop, { once: true });
  }

  /** Resolves true at `at`, or false once stopped (at once if already). */
  until(at: number): Promise<boolean> {
    if (this.stopped.aborted) return STOPPED;
    if (this.wake) throw new Error('Pacer: one sleep at a time');
    const wait = at - this.clock.now();
    if (wait <= 0) return DUE;
    this.target = at;
    return new Promise<boolean>((resolve) => {
      this.wake = resolve;
      this.timer = this.clock.setTimer(this.onTimer, wait);
    });
  }

  /** Lets go of the stop signal. */
  dispose(): void {
    this.stopped.removeEventListener('abort', this.onStop);
  }

  private readonly onTimer = (): void => {
    const early = this.target - this.clock.now();
    if (early > 0) {
      this.timer = this.clock.setTimer(this.onTimer, early);
      return;
    }
    this.settle(!this.stopped.aborted);
  };

  private readonly onStop = (): void => {
    this.timer?.cancel();
    this.settle(false);
  };

  private settle(due: boolean): void {
    const wake = this.wake;
    this.wake = undefined;
    this.timer = undefined;
    wake?.(due);
  }
}

/** Sleeps until `at` on the clock (never before it), or until stopped; returns false when stopped. */
export async function sleepUntil(clock: Clock, at: number, stopped: AbortSignal): Promise<boolean> {
  const pacer = new Pacer(clock, stopped);
  try {
    return await pacer.until(at);
  } finally {
    pacer.dispose();
  }
}
