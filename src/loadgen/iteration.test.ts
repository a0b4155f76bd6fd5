import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import { IterationRunner, VuCounter, type ExecutorRuntime, type IterationContext } from './iteration.ts';

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
