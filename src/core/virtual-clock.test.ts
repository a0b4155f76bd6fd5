import { describe, expect, it } from 'vitest';
import { VirtualClock, VIRTUAL_EPOCH_MS } from './virtual-clock.ts';

describe('VirtualClock', () => {
  it('starts at the fixed epoch and stands still until advanced', async () => {
    const clock = new VirtualClock();
    expect(clock.now()).toBe(VIRTUAL_EPOCH_MS);
    let fired = false;
    clock.setTimer(() => (fired = true), 1000);
    await clock.advance(999);
    expect(fired).toBe(false);
    await clock.advance(1);
    expect(fired).toBe(true);
    expect(clock.now()).toBe(VIRTUAL_EPOCH_MS + 1000);
  });

  it('fires timers in time order, ties in insertion order, at their own time', async () => {
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    clock.setTimer(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => seen.push(`c@${clock.now()}`), 20);
    await clock.advance(100);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(100);
  });

  it('runs promise chains woken by one timer before the next timer fires', async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const worker = async (): Promise<void> => {
      await clock.sleep(10);
      seen.push(clock.now());
      await clock.sleep(5);
      seen.push(clock.now());
    };
    void worker();
    clock.setTimer(() => seen.push(-clock.now()), 12);
    await clock.runAll();
    expect(seen).toEqual([10, -12, 15]);
  });

  it('rejects a sleep when its signal aborts and drops the timer', async () => {
    const clock = new VirtualClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, controller.signal);
    expect(clock.pendingTimers()).toBe(1);
    controller.abort(new Error('gone'));
    await expect(sleeping).rejects.toThrow('gone');
    expect(clock.pendingTimers()).toBe(0);
    await expect(clock.sleep(1, controller.signal)).rejects.toThrow('gone');
  });

  it('cancelled timers never fire and runAll stops at the limit', async () => {
    const clock = new VirtualClock(0);
    let fired = 0;
    clock.setTimer(() => fired++, 5).cancel();
    const tick = (): void => void clock.setTimer(() => (fired++, tick()), 1000);
    tick();
    const stoppedAt = await clock.runAll(10_500);
    expect(fired).toBe(10);
    expect(stoppedAt).toBe(10_000);
    expect(clock.nextTimerAt()).toBe(11_000);
  });

  it('runUntil stops at the first instant after which its condition holds, chains included', async () => {
    const clock = new VirtualClock(0);
    let finished = false;
    const job = async (): Promise<void> => {
      await clock.sleep(300);
      await Promise.resolve(); // settles a microtask after its timer, still within that instant
      finished = true;
    };
    void job();
    const tick = (): void => void clock.setTimer(tick, 100);
    tick(); // a timer that never stops rescheduling itself
    const stoppedAt = await clock.runUntil(() => finished);
    expect(finished).toBe(true);
    expect(stoppedAt).toBe(300);
    expect(clock.nextTimerAt()).toBe(400);
  });

  for (const settle of ['event-loop', 'microtasks'] as const) {
    it(`settle: ${settle}: every promise chain a timer woke has run before the next instant, however long`, async () => {
      const clock = new VirtualClock({ startMs: 0, settle });
      const seen: string[] = [];
      const chain = async (name: string, at: number, depth: number): Promise<void> => {
        await clock.sleep(at);
        for (let i = 0; i < depth; i++) await Promise.resolve();
        seen.push(`${name}@${clock.now()}`);
        await clock.sleep(1);
        seen.push(`${name}+1@${clock.now()}`);
      };
      void chain('deep', 10, 200);
      void chain('shallow', 10, 0);
      clock.setTimer(() => seen.push(`timer@${clock.now()}`), 11);
      await clock.runAll();
      // Both chains finished their instant (and set their next timer) before 11 fired: theirs come first at 11.
      expect(seen).toEqual(['shallow@10', 'deep@10', 'timer@11', 'shallow+1@11', 'deep+1@11']);
    });
  }

  it('settle: microtasks turns the event loop once per 1 000 instants, not once per instant', async () => {
    const turnsAt = async (settle: 'event-loop' | 'microtasks', instants = 500): Promise<number> => {
      const clock = new VirtualClock({ startMs: 0, settle });
      let immediateAt = -1;
      // Queued by the first instant, it runs at the event loop's next turn.
      clock.setTimer(() => setImmediate(() => (immediateAt = clock.now())), 1);
      for (let t = 2; t <= instants; t++) clock.setTimer(() => undefined, t);
      await clock.runAll();
      return immediateAt;
    };
    // In microtasks mode the loop never turned in the run's 500 instants (< 1 000): the run ended first.
    expect(await turnsAt('microtasks')).toBe(-1);
    expect(await turnsAt('event-loop')).toBe(1);
    // Longer runs still let I/O in: at the 1 000th instant.
    expect(await turnsAt('microtasks', 1500)).toBe(1000);
  });
});
