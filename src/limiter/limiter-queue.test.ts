import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { settle } from '../../test/support/mock-client.ts';
import { LimiterError } from './errors.ts';
import { createLimiter, type Execution } from './limiter.ts';
import { fakeUpstream, limit429, ok } from './test-support/fake-upstream.ts';

const fixed = (limit: number, extra: object = {}) => ({ concurrency: { mode: 'fixed' as const, limit }, ...extra });

describe('limiter queue', () => {
  it('runs by priority, FIFO inside a level, within the concurrency limit', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1), { clock });
    const started: string[] = [];
    const task = (name: string) => async () => {
      started.push(name);
      await clock.sleep(100);
      return name;
    };
    const all = [
      limiter.schedule(task('first'), { priority: 'low' }),
      limiter.schedule(task('low-a'), { priority: 'low' }),
      limiter.schedule(task('normal'), {}),
      limiter.schedule(task('critical'), { priority: 'critical' }),
      limiter.schedule(task('low-b'), { priority: 3 }),
      limiter.schedule(task('high'), { priority: 'high' }),
    ];
    expect(limiter.inFlight).toBe(1);
    await settle(clock, Promise.all(all));
    expect(started).toEqual(['first', 'critical', 'high', 'normal', 'low-a', 'low-b']);
  });

  it('sheds with typed errors: queue full, deadline exceeded, deadline that cannot be met', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1, { queue: { maxSize: 2, maxWait: '10s' }, budgets: { rpm: { limit: 60, burst: 2 }, safety: 1 } }), { clock });
    const slow = fakeUpstream(clock, () => ok(), 30_000);
    const running = limiter.execute(slow.task);
    const waitingA = limiter.execute(slow.task);
    const waitingB = limiter.execute(slow.task, { deadline: 5_000 });
    const full = await limiter.execute(slow.task);
    expect(full.error).toBeInstanceOf(LimiterError);
    expect((full.error as LimiterError).reason).toBe('queue_full');
    await clock.advance(5_000);
    expect(((await waitingB).error as LimiterError).reason).toBe('deadline_exceeded');
    await clock.advance(5_000);
    expect(((await waitingA).error as LimiterError).reason).toBe('deadline_exceeded');
    await settle(clock, running);
    // Budget: 2 at once, then one a second. A task whose turn is 2 s away but must start in 1 s is refused now.
    const quick = createLimiter(fixed(10, { budgets: { rpm: { limit: 60, burst: 2 }, safety: 1 } }), { clock });
    const fast = fakeUpstream(clock, () => ok(), 10);
    const admitted = [quick.execute(fast.task), quick.execute(fast.task)];
    const unmeetable = await quick.execute(fast.task, { deadline: clock.now() + 500 });
    expect((unmeetable.error as LimiterError).reason).toBe('deadline_unmeetable');
    expect((unmeetable.error as LimiterError).retryAfterMs).toBeCloseTo(1000);
    expect((await settle(clock, Promise.all(admitted))).every((e) => e.ok)).toBe(true);
  });

  it('refuses at admission a task that what waits ahead of it at its priority would hold past its deadline', async () => {
    const clock = new VirtualClock(0);
    // One request a second, one at once: nine queued behind the first mean the tenth's turn is 10 s away.
    const budgets = { rpm: { limit: 60, burst: 1 }, safety: 1 };
    const limiter = createLimiter(fixed(10, { budgets }), { clock });
    const fast = fakeUpstream(clock, () => ok(), 10);
    const queued = Array.from({ length: 10 }, () => limiter.execute(fast.task));
    const late = await limiter.execute(fast.task, { deadline: clock.now() + 3_000 });
    expect(clock.now()).toBe(0);
    expect((late.error as LimiterError).reason).toBe('deadline_unmeetable');
    // It could start at 10 s, 7 s after its deadline: come back then.
    expect((late.error as LimiterError).retryAfterMs).toBeCloseTo(7_000);
    // Nothing waits ahead of a critical task: it is admitted, and goes first.
    const critical = limiter.execute(fast.task, { priority: 'critical', deadline: clock.now() + 3_000 });
    expect((await settle(clock, critical)).ok).toBe(true);
    expect((await settle(clock, Promise.all(queued))).every((e) => e.ok)).toBe(true);

    // Turned off, the same task waits until it reaches the head, and only then is refused.
    const patient = createLimiter(fixed(10, { budgets, queue: { refuseEarly: false } }), { clock });
    const start = clock.now();
    const ahead = Array.from({ length: 10 }, () => patient.execute(fast.task));
    const refusedLate = await settle(clock, patient.execute(fast.task, { deadline: clock.now() + 3_000 }));
    expect((refusedLate.error as LimiterError).reason).toBe('deadline_exceeded');
    expect(clock.now() - start).toBeGreaterThanOrEqual(3_000);
    await settle(clock, Promise.all(ahead));
  });

  it('counts the concurrency limit at the measured latency when every slot is taken', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1), { clock });
    const slow = fakeUpstream(clock, () => ok(), 1_000);
    // No latency known yet: no estimate, the task is admitted (and waits its turn).
    await settle(clock, limiter.execute(slow.task));
    const queued = Array.from({ length: 5 }, () => limiter.execute(slow.task));
    // One running, four waiting: the new one starts in ~5 s, so a 2 s deadline is 3 s too short.
    const late = await limiter.execute(slow.task, { deadline: clock.now() + 2_000 });
    expect((late.error as LimiterError).reason).toBe('deadline_unmeetable');
    expect((late.error as LimiterError).retryAfterMs).toBeCloseTo(3_000);
    const inTime = limiter.execute(slow.task, { deadline: clock.now() + 10_000 });
    expect((await settle(clock, Promise.all([...queued, inTime]))).every((e) => e.ok)).toBe(true);
  });

  it('honours a deadline later than queue.maxWait (an async job may wait longer than a held connection)', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1, { queue: { maxWait: '10s', refuseEarly: false } }), { clock });
    const slow = fakeUpstream(clock, () => ok(), 30_000);
    const running = limiter.execute(slow.task);
    const patient = limiter.execute(slow.task, { deadline: clock.now() + 60_000 });
    const hurried = limiter.execute(slow.task);
    const [first, second, third] = await settle(clock, Promise.all([running, patient, hurried]));
    expect(first.ok && second.ok).toBe(true);
    expect(second.queueMs).toBe(30_000);
    expect((third.error as LimiterError).reason).toBe('deadline_exceeded');
  });

  it('cancels a queued task at once, and aborts a running one through its signal', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1), { clock });
    const up = fakeUpstream(clock, () => ok(), 1000);
    const first = new AbortController();
    const second = new AbortController();
    const running = limiter.execute(up.task, { signal: first.signal });
    const queued = limiter.execute(up.task, { signal: second.signal });
    second.abort();
    expect(((await queued).error as LimiterError).reason).toBe('cancelled');
    first.abort(new Error('caller left'));
    const aborted = await settle(clock, running);
    expect(aborted.ok).toBe(false);
    expect((aborted.error as Error).message).toBe('caller left');
    expect(aborted.attempts).toBe(1);
    expect(limiter.inFlight).toBe(0);
  });

  it('cancels a task waiting out a retry-after at once, not when the wait ends', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1, { queue: { maxWait: '1h' } }), { clock });
    const up = fakeUpstream(clock, () => limit429(20 * 60_000), 1000);
    const caller = new AbortController();
    const execution = limiter.execute(up.task, { signal: caller.signal });
    await clock.advance(5_000); // the first attempt got its 429 at 1 s; the retry waits 20 min
    expect(up.calls).toHaveLength(1);
    caller.abort();
    const settled = await Promise.race([execution, clock.advance(0).then(() => 'still waiting' as const)]);
    expect(settled).not.toBe('still waiting');
    const e = settled as Execution<Response>;
    expect(e.ok).toBe(false);
    expect((e.error as LimiterError).reason).toBe('cancelled');
    expect(e.attempts).toBe(1);
    expect(e.lastStatus).toBe(429);
    await clock.runAll();
    expect(up.calls).toHaveLength(1);
    expect(clock.now()).toBeLessThan(20 * 60_000);
  });

  it('close() sheds everything queued with `shutdown` and refuses new work', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1), { clock });
    const up = fakeUpstream(clock, () => ok(), 1000);
    const running = limiter.execute(up.task);
    const queued = limiter.execute(up.task);
    limiter.close();
    expect(((await queued).error as LimiterError).reason).toBe('shutdown');
    expect(((await limiter.execute(up.task)).error as LimiterError).reason).toBe('shutdown');
    expect((await settle(clock, running)).ok).toBe(true);
  });

  it('close() also sheds a task waiting out a retry-after, without waiting for it', async () => {
    const clock = new VirtualClock(0);
    const limiter = createLimiter(fixed(1, { queue: { maxWait: '1h' } }), { clock });
    const up = fakeUpstream(clock, () => limit429(20 * 60_000), 1000);
    const execution = limiter.execute(up.task);
    await clock.advance(5_000);
    limiter.close();
    const e = await execution;
    expect((e.error as LimiterError).reason).toBe('shutdown');
    expect(e.lastStatus).toBe(429);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a bad priority with a message naming it', async () => {
    const limiter = createLimiter({}, { clock: new VirtualClock(0) });
    await expect(limiter.execute(async () => 1, { priority: 'urgent' as never })).rejects.toThrow(
      'Expected `priority` to be one of critical, high, normal, low or an integer 0–9, got `urgent` (string)',
    );
  });

  it.each([1, 2, 3, 4, 5])('never leaves a task pending: random load, cancellations and failures (seed %i)', async (seed) => {
    const rng = createRng(seed);
    const clock = new VirtualClock(0);
    const limiter = createLimiter(
      { concurrency: { mode: 'adaptive', limit: 4, max: 16 }, queue: { maxSize: 50, maxWait: '20s' }, budgets: { rpm: { limit: 120 } }, retry: { maxAttempts: 3, baseDelay: '500ms' } },
      { clock, seed },
    );
    const up = fakeUpstream(clock, () => {
      const r = rng.next();
      if (r < 0.1) return new Response('{}', { status: 503 });
      if (r < 0.15) return new Response('{}', { status: 500 });
      if (r < 0.18) return new Response('{}', { status: 400 });
      return ok();
    }, 700);
    const executions: Promise<Execution<Response>>[] = [];
    for (let i = 0; i < 400; i++) {
      await clock.advance(rng.next() * 300);
      const controller = new AbortController();
      executions.push(limiter.execute(up.task, { priority: rng.int(4), signal: controller.signal }));
      if (rng.next() < 0.05) clock.setTimer(() => controller.abort(), rng.next() * 5000);
    }
    const results = await settle(clock, Promise.all(executions));
    expect(results).toHaveLength(400);
    expect(limiter.pending).toBe(0);
    expect(limiter.inFlight).toBe(0);
    const shed = results.filter((r) => r.error instanceof LimiterError).length;
    const finished = results.filter((r) => !(r.error instanceof LimiterError)).length;
    expect(shed + finished).toBe(400);
  });
});
