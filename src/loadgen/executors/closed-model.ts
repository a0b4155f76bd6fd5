import { sleepUntil, IterationRunner, type ExecutorRuntime } from '../iteration.ts';

/** One VU looping iterations while `keepGoing()`, each started as soon as the previous ends. */
async function loop(rt: ExecutorRuntime, runner: IterationRunner, vu: number, keepGoing: () => boolean): Promise<void> {
  while (keepGoing() && !rt.stopped.aborted) await runner.start(vu, rt.clock.now());
}

/** constant-vus: `vus` VUs loop for `duration`; then running iterations get gracefulStop. */
export async function runConstantVus(rt: ExecutorRuntime, c: { vus: number; durationMs: number; gracefulStopMs: number }): Promise<void> {
  const runner = new IterationRunner(rt);
  const end = rt.clock.now() + c.durationMs;
  const loops = Array.from({ length: c.vus }, () => loop(rt, runner, rt.vus.create(), () => rt.clock.now() < end));
  await sleepUntil(rt.clock, end, rt.stopped);
  await runner.drain(rt.stopped.aborted ? 0 : c.gracefulStopMs);
  await Promise.all(loops);
}

export interface StagesMs {
  durationMs: number;
  target: number;
}

/** The VU target at `t` ms: linear between stage targets, rounded down like k6. */
export function vusAt(startVUs: number, stages: readonly StagesMs[], t: number): number {
  let at = 0;
  let from = startVUs;
  for (const s of stages) {
    if (t < at + s.durationMs) return Math.floor(from + ((s.target - from) * (t - at)) / s.durationMs);
    at += s.durationMs;
    from = s.target;
  }
  return from;
}

/**
 * ramping-vus: the number of looping VUs follows the stages. A VU above the target
 * finishes its iteration (interrupted after gracefulRampDown) and stops; at the end,
 * running iterations get gracefulStop.
 */
export async function runRampingVus(
  rt: ExecutorRuntime,
  c: {
    startVUs: number;
    stages: StagesMs[];
    gracefulStopMs: number;
    gracefulRampDownMs: number;
    tickMs?: number;
    /** This engine's share of the whole test's VU target (an execution segment's); default all of it. */
    share?: (vus: number) => number;
  },
): Promise<void> {
  const runner = new IterationRunner(rt);
  const start = rt.clock.now();
  const total = c.stages.reduce((a, s) => a + s.durationMs, 0);
  const tick = c.tickMs ?? 10;
  const active: { vu: number; stop: boolean; done: Promise<void> }[] = [];
  const loops: Promise<void>[] = [];
  for (let t = 0; t <= total; t += tick) {
    if (!(await sleepUntil(rt.clock, start + t, rt.stopped))) break;
    const target = t >= total ? 0 : (c.share ?? ((v) => v))(vusAt(c.startVUs, c.stages, t));
    while (active.length < target) {
      const entry = { vu: rt.vus.create(), stop: false, done: Promise.resolve() };
      entry.done = loop(rt, runner, entry.vu, () => !entry.stop && rt.clock.now() < start + total);
      active.push(entry);
      loops.push(entry.done);
    }
    while (active.length > target && t < total) {
      const leaving = active.pop()!;
      leaving.stop = true;
      // Its current iteration may finish within gracefulRampDown; then it is interrupted.
      const timer = rt.clock.setTimer(() => runner.interruptVu(leaving.vu), c.gracefulRampDownMs);
      void leaving.done.finally(() => timer.cancel());
    }
  }
  await runner.drain(rt.stopped.aborted ? 0 : c.gracefulStopMs);
  await Promise.all(loops);
}

/**
 * per-vu-iterations and shared-iterations: a fixed number of iterations, per VU or shared,
 * within maxDuration (then gracefulStop). Iterations never started count as dropped.
 */
export async function runIterations(
  rt: ExecutorRuntime,
  c: { vus: number; iterations: number; shared: boolean; maxDurationMs: number; gracefulStopMs: number },
): Promise<void> {
  const runner = new IterationRunner(rt);
  const end = rt.clock.now() + c.maxDurationMs;
  const total = c.shared ? c.iterations : c.iterations * c.vus;
  let started = 0;
  const loops = Array.from({ length: c.vus }, async () => {
    const vu = rt.vus.create();
    let mine = 0;
    while (!rt.stopped.aborted && rt.clock.now() < end && started < total && (c.shared || mine < c.iterations)) {
      started++;
      mine++;
      await runner.start(vu, rt.clock.now());
    }
  });
  const allDone = Promise.all(loops);
  let timer: { cancel(): void } | undefined;
  await Promise.race([allDone, new Promise<void>((resolve) => (timer = rt.clock.setTimer(resolve, c.maxDurationMs)))]);
  timer?.cancel();
  await runner.drain(rt.stopped.aborted ? 0 : c.gracefulStopMs);
  await allDone;
  for (let i = started; i < total; i++) rt.dropped();
}
