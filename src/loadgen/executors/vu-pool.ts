import type { Clock } from '../../core/clock.ts';
import type { VuCounter } from '../iteration.ts';

/**
 * An arrival-rate scenario's VUs: `preAllocatedVUs` made at start, and up to `maxVUs`.
 * When an iteration is due and no VU is idle, the iteration is dropped (never queued)
 * and, below maxVUs, one more VU is initialized in the background — one at a time, so
 * it serves later iterations, not the dropped one (k6's semantics).
 */
export class VuPool {
  private readonly idle: number[] = [];
  private total = 0;
  private growing = false;

  constructor(
    private readonly counter: VuCounter,
    private readonly clock: Clock,
    preAllocated: number,
    private readonly max: number,
  ) {
    for (let i = 0; i < preAllocated; i++) this.add();
  }

  get size(): number {
    return this.total;
  }

  acquire(): number | undefined {
    return this.idle.pop();
  }

  release(vu: number): void {
    this.idle.push(vu);
  }

  growInBackground(): void {
    if (this.growing || this.total >= this.max) return;
    this.growing = true;
    this.clock.setTimer(() => {
      this.growing = false;
      this.add();
    }, 0);
  }

  private add(): void {
    this.total++;
    this.idle.push(this.counter.create());
  }
}
