import { randomFillSync } from 'node:crypto';
import { iterationTrace, type IterationTrace } from '../../loadtests/lib/traceparent.ts';

/** One of a run's slowest sampled requests, production time: find it in Jaeger or Tempo by its trace id. */
export interface SlowRequest {
  traceId: string;
  /** From send to the answer's last byte, production ms. */
  latencyMs: number;
  class: string;
  status: number;
  /** Seconds into the run, production time. */
  atS: number;
}

/**
 * A trace per iteration (`traceparent` on each request, `ratio` of them sampled) and the
 * `keep` slowest sampled answers with their trace ids, for the summary and the report: only a
 * sampled trace can be opened downstream, so an unsampled one is not worth naming. Random bytes
 * are drawn 4 KiB at a time: one system call per 160 requests.
 */
export class IterationTraces {
  private readonly pool = Buffer.alloc(25 * 164);
  private at = this.pool.length;
  private readonly kept: SlowRequest[] = [];

  constructor(
    private readonly ratio: number,
    private readonly timeScale: number,
    private readonly startedAt: number,
    private readonly keep = 10,
  ) {
    if (!(ratio >= 0 && ratio <= 1)) throw new TypeError(`Expected \`traceRatio\` to be a number from 0 to 1, got \`${String(ratio)}\` (${typeof ratio})`);
  }

  next(): IterationTrace {
    if (this.at + 25 > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const t = iterationTrace(this.pool.subarray(this.at, this.at + 25), this.ratio);
    this.at += 25;
    return t;
  }

  /** An answer's latency (ms as run); kept when its trace is sampled and it is among the slowest so far. */
  record(t: IterationTrace, sentAt: number, doneAt: number, cls: string, status: number): void {
    if (!t.sampled) return;
    const latencyMs = (doneAt - sentAt) / this.timeScale;
    const kept = this.kept;
    if (kept.length === this.keep && latencyMs <= kept[kept.length - 1]!.latencyMs) return;
    const entry = { traceId: t.traceId, latencyMs: Math.round(latencyMs), class: cls, status, atS: Math.round((sentAt - this.startedAt) / this.timeScale / 100) / 10 };
    let i = kept.length;
    while (i > 0 && kept[i - 1]!.latencyMs < latencyMs) i--;
    kept.splice(i, 0, entry);
    if (kept.length > this.keep) kept.pop();
  }

  /** The slowest sampled answers, slowest first. */
  slowest(): SlowRequest[] {
    return [...this.kept];
  }
}
