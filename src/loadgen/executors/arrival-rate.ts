import { IterationRunner, Pacer, type ExecutorRuntime } from '../iteration.ts';
import { VuPool } from './vu-pool.ts';

export interface ArrivalRateConfig {
  /** ms from the scenario's start at which each iteration is due, in order. */
  offsets: Iterable<number>;
  /** The scenario's length: no iteration starts after it, and the grace period counts from it. */
  durationMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
  gracefulStopMs: number;
}

/**
 * Open model (constant- and ramping-arrival-rate): each iteration starts when due on an
 * idle VU, or is dropped and counted in dropped_iterations. After the last one, running
 * iterations get gracefulStop to finish, then are interrupted.
 */
export async function runArrivalRate(rt: ExecutorRuntime, config: ArrivalRateConfig): Promise<void> {
  const pool = new VuPool(rt.vus, rt.clock, config.preAllocatedVUs, config.maxVUs);
  const runner = new IterationRunner(rt);
  const pacer = new Pacer(rt.clock, rt.stopped);
  const release = (vu: number): void => pool.release(vu);
  const start = rt.clock.now();
  for (const offset of config.offsets) {
    const due = start + offset;
    if (!(await pacer.until(due))) break;
    const vu = pool.acquire();
    if (vu === undefined) {
      rt.dropped();
      pool.growInBackground();
      continue;
    }
    void runner.start(vu, due, release);
  }
  if (rt.stopped.aborted) runner.interruptAll();
  else await pacer.until(start + config.durationMs);
  pacer.dispose();
  await runner.drain(rt.stopped.aborted ? 0 : config.gracefulStopMs);
}
