import { SingleBar } from 'cli-progress';
import { humanDuration } from '../core/duration.ts';
import type { Progress } from './loadtest-run.ts';
import { RecentRate } from './progress-rate.ts';

/** Where the run is, in production time, with the scaled wall time beside it once. */
function when(p: Progress, timeScale: number, ended: boolean): string {
  const scaled = timeScale === 1 ? '' : ` (${humanDuration(p.elapsedMs)} at scale ${timeScale})`;
  const elapsed = humanDuration(p.elapsedMs / timeScale);
  const plan = humanDuration(p.totalMs / timeScale);
  if (ended) return `${elapsed}${scaled}`;
  return p.elapsedMs <= p.totalMs ? `${elapsed} of ${plan}${scaled}` : `${elapsed}, past the ${plan} plan${scaled}`;
}

/** One progress line: stage, time, rate, answers, and what went wrong as it happens. */
export function progressLine(name: string, p: Progress, timeScale: number, answersPerS: number, ended = false): string {
  const counts = `${p.requests} answers: ${p.refusals} refused by the gateway, ${p.provider429} provider 429s, ${p.errors} failed`;
  if (ended) return `${name} done after ${when(p, timeScale, true)}: ${counts}`;
  // Answers per minute of production time (wall-clock answers/s × scale × 60), like every figure a person reads.
  const rate = (answersPerS * timeScale * 60).toFixed(1);
  const stage = p.elapsedMs <= p.totalMs ? p.stage : `draining, ${p.inFlight} in flight`;
  return `${name} ${stage}: ${when(p, timeScale, false)}, ${rate} answers/min, ${counts}`;
}

/**
 * Progress of a run until its very end, the drain after the plan included: a bar on a TTY;
 * otherwise a line every tenth of the plan (CI logs stay readable), on through the drain, and
 * a last line when the run ends.
 */
export function progressReporter(name: string, timeScale: number): { tick: (p: Progress) => void; done: () => void } {
  const tty = Boolean(process.stderr.isTTY);
  let bar: SingleBar | undefined;
  let lastTenth = -1;
  let last: Progress | undefined;
  let lastRate = 0;
  let finished = false;
  const recent = new RecentRate();
  return {
    tick(p) {
      if (finished) return;
      last = p;
      lastRate = recent.update(p.elapsedMs, p.requests);
      const line = progressLine(name, p, timeScale, lastRate);
      if (tty) {
        const total = Math.max(1, Math.round(p.totalMs / 100), Math.round(p.elapsedMs / 100));
        if (!bar) {
          bar = new SingleBar({ format: '|{bar}| {line}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
          bar.start(total, 0, { line });
        }
        // Past the plan the bar grows with the drain rather than sit full.
        if (total !== bar.getTotal()) bar.setTotal(total);
        bar.update(Math.round(p.elapsedMs / 100), { line });
        return;
      }
      const tenth = Math.floor((10 * p.elapsedMs) / Math.max(1, p.totalMs));
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${line}\n`);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      bar?.stop();
      if (last) process.stderr.write(`${progressLine(name, last, timeScale, lastRate, true)}\n`);
    },
  };
}
