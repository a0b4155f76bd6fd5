import type { Clock } from '../core/clock.ts';

export interface IterationContext {
  /** 1-based VU id, unique across the run (k6's __VU). */
  vu: number;
  /** 0-based iteration of this VU in this scenario (k6's __ITER). */
  iteration: number;
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
  private controller: AbortController | undefined;

  constructor(
    readonly vu: number,
    readonly iteration: number,
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

/**
 * Runs iterations and remembers the ones in flight, so a scenario can give them a grace
 * period and then interrupt them, as k6's gracefulStop does.
 */
export class IterationRunner {
  private readonly running = new Map<Promise<void>, Iteration>();
  private readonly perVu = new Map<number, number>();
  private readonly current = new Map<number, Iteration>();

  constructor(private readonly rt: ExecutorRuntime) {}

  get inFlight(): number {
    return this.running.size;
  }

  start(vu: number, scheduledAt: number): Promise<void> {
    const iteration = this.perVu.get(vu) ?? 0;
    this.perVu.set(vu, iteration + 1);
    const ctx = new Iteration(vu, iteration, this.rt.scenario, scheduledAt);
    const { clock } = this.rt;
    const startedAt = clock.now();
    this.rt.vus.busy++;
    this.rt.started();
    const run = (async () => {
      let errored = false;
      try {
        await this.rt.exec(ctx);
      } catch {
        // k6 logs an iteration's exception and goes on; the iteration still ends.
        errored = true;
      }
      const now = clock.now();
      this.rt.vus.busy--;
      this.rt.iterationDone({ durationMs: now - startedAt, fromIntendedMs: now - scheduledAt, interrupted: ctx.interrupted, errored });
    })();
    this.running.set(run, ctx);
    this.current.set(vu, ctx);
    void run.finally(() => {
      this.running.delete(run);
      if (this.current.get(vu) === ctx) this.current.delete(vu);
    });
    return run;
  }

  /** Waits up to `graceMs` for running iterations, then interrupts the rest and waits for them to end. */
  async drain(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    const all = Promise.allSettled([...this.running.keys()]);
    let timer: { cancel(): void } | undefined;
    const grace = new Promise<void>((resolve) => (timer = this.rt.clock.setTimer(resolve, graceMs)));
    await Promise.race([all, grace]);
    timer?.cancel();
    this.interruptAll();
    await Promise.allSettled([...this.running.keys()]);
  }

  /** Interrupts one VU's running iteration (gracefulRampDown). */
  interruptVu(vu: number): void {
    this.current.get(vu)?.interrupt();
  }

  interruptAll(): void {
    for (const ctx of this.running.values()) ctx.interrupt();
  }
}

/** Sleeps until `at` on the clock, or until stopped; returns false when stopped. */
export async function sleepUntil(clock: Clock, at: number, stopped: AbortSignal): Promise<boolean> {
  const wait = at - clock.now();
  if (wait > 0) {
    try {
      await clock.sleep(wait, stopped);
    } catch {
      return false;
    }
  }
  return !stopped.aborted;
}
