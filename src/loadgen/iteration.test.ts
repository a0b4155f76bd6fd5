import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import type { Clock } from '../core/clock.ts';
import { IterationRunner, Pacer, VuCounter, type ExecutorRuntime, type IterationContext } from './iteration.ts';

function runtime(clock: VirtualClock, exec: (ctx: IterationContext) => Promise<void>, done: { interrupted: boolean }[]): ExecutorRuntime {
  return {
    clock,
    scenario: 's',
    exec,
    vus: new VuCounter(),
    stopped: new AbortController().signal,
    dropped: () => undefined,
    started: () => undefined,
    iterationDone: (d) => done.push(d),
  };
}

describe('IterationRunner', () => {
  it("numbers iterations across VUs in the order they start, as k6's exec.scenario.iterationInTest", async () => {
    const clock = new VirtualClock(0);
    const seen: [number, number, number][] = [];
    const runner = new IterationRunner(runtime(clock, async (ctx) => void seen.push([ctx.vu, ctx.iteration, ctx.iterationInTest]), []));
    await Promise.all([runner.start(2, 0), runner.start(1, 0), runner.start(2, 0)]);
    expect(seen).toEqual([[2, 0, 0], [1, 0, 1], [2, 1, 2]]);
  });

  it('interrupts an iteration through the signal it read, and flags it', async () => {
    const clock = new VirtualClock(0);
    const done: { interrupted: boolean }[] = [];
    const runner = new IterationRunner(runtime(clock, (ctx) => clock.sleep(10_000, ctx.signal), done));
    const run = runner.start(1, 0);
    await clock.advance(100);
    runner.interruptAll();
    await run;
    expect(done).toEqual([expect.objectContaining({ interrupted: true, errored: true })]);
  });

  it('gives an iteration that reads its signal only after being interrupted an aborted one', async () => {
    const clock = new VirtualClock(0);
    const done: { interrupted: boolean }[] = [];
    const seen: boolean[] = [];
    const runner = new IterationRunner(
      runtime(
        clock,
        async (ctx) => {
          await clock.sleep(1_000); // does not listen while it sleeps
          seen.push(ctx.signal.aborted);
        },
        done,
      ),
    );
    const run = runner.start(1, 0);
    await clock.advance(100);
    runner.interruptVu(1);
    await clock.advance(1_000);
    await run;
    expect(seen).toEqual([true]);
    expect(done).toEqual([expect.objectContaining({ interrupted: true, errored: false })]);
  });

  it('an iteration left alone is not interrupted', async () => {
    const clock = new VirtualClock(0);
    const done: { interrupted: boolean }[] = [];
    const runner = new IterationRunner(runtime(clock, async (ctx) => void (await clock.sleep(10, ctx.signal)), done));
    const run = runner.start(1, 0);
    await clock.advance(10);
    await run;
    expect(done).toEqual([expect.objectContaining({ interrupted: false, errored: false })]);
  });
});

/** A clock whose timers of 1 ms or more fire `earlyMs` before they are due, as a real timer may. */
function earlyClock(clock: VirtualClock, earlyMs: number): Clock {
  return { now: () => clock.now(), sleep: (ms, signal) => clock.sleep(ms, signal), setTimer: (fn, ms) => clock.setTimer(fn, ms >= 1 ? ms - earlyMs : ms) };
}

describe('Pacer', () => {
  it('never wakes before the instant it was asked for, even when a timer fires early', async () => {
    const clock = new VirtualClock(0);
    const pacer = new Pacer(earlyClock(clock, 0.4), new AbortController().signal);
    let wokeAt: number | undefined;
    void pacer.until(10).then(() => (wokeAt = clock.now()));
    await clock.advance(9.6);
    expect(wokeAt).toBeUndefined();
    await clock.advance(1);
    expect(wokeAt).toBeGreaterThanOrEqual(10);
  });

  it('wakes false as soon as it is stopped, and at once afterwards; one listener for many sleeps', async () => {
    const clock = new VirtualClock(0);
    const stop = new AbortController();
    let listeners = 0;
    const signal = stop.signal;
    const add = signal.addEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof signal.addEventListener;
    const pacer = new Pacer(clock, signal);
    for (let at = 10; at <= 50; at += 10) {
      const due = pacer.until(at);
      await clock.advance(10);
      expect(await due).toBe(true);
    }
    const sleeping = pacer.until(1_000);
    await clock.advance(5);
    stop.abort();
    expect(await sleeping).toBe(false);
    expect(await pacer.until(2_000)).toBe(false);
    expect(listeners).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses a second sleep while one is pending', async () => {
    const clock = new VirtualClock(0);
    const pacer = new Pacer(clock, new AbortController().signal);
    void pacer.until(10);
    expect(() => pacer.until(20)).toThrow(/one sleep at a time/);
  });
});
