import { SingleBar } from 'cli-progress';
import type { Progress } from './loadtest-run.ts';
import { RecentRate } from './progress-rate.ts';

/**
 * Progress of a run: a bar with stage, elapsed/remaining, rate (answers/s over the last 5 s)
 * and errors on a TTY; a plain line every tenth of the run otherwise (CI logs stay readable).
 */
export function progressReporter(name: string): { tick: (p: Progress) => void; done: () => void } {
  const tty = Boolean(process.stderr.isTTY);
  let bar: SingleBar | undefined;
  let lastTenth = -1;
  let finished = false;
  const recent = new RecentRate();
  return {
    tick(p) {
      if (finished) return;
      const totalS = Math.max(1, Math.round(p.totalMs / 1000));
      const elapsedS = Math.min(totalS, Math.round(p.elapsedMs / 1000));
      const rate = recent.update(p.elapsedMs, p.requests).toFixed(1);
      if (tty) {
        if (!bar) {
          bar = new SingleBar({ format: `${name} {stage} |{bar}| {value}/{total} s | {rate} req/s | {requests} requests | {errors} errors`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
          bar.start(totalS, 0, { stage: p.stage, rate, requests: 0, errors: 0 });
        }
        bar.update(elapsedS, { stage: p.stage, rate, requests: p.requests, errors: p.errors });
        return;
      }
      const tenth = Math.floor((10 * p.elapsedMs) / Math.max(1, p.totalMs));
      if (tenth > lastTenth && tenth <= 10) {
        lastTenth = tenth;
        process.stderr.write(`${name}: ${p.stage}, ${elapsedS}/${totalS} s, ${rate} req/s, ${p.requests} requests, ${p.errors} errors\n`);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      bar?.stop();
    },
  };
}
