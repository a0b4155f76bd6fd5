import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Progress } from './loadtest-run.ts';
import { progressLine, progressReporter } from './progress.ts';

const at = (elapsedMs: number, extra: Partial<Progress> = {}): Progress => ({ elapsedMs, totalMs: 60_000, stage: 'stage 2/4', requests: 100, errors: 3, refusals: 3, provider429: 0, inFlight: 12, ...extra });

describe('progress', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads in production time with the scaled time beside it, and counts refusals and 429s', () => {
    // 20 s into a scaled 60 s plan at 0.1: 3m20s of a 10m scenario; 2 answers/s wall = 12 answers/min in production.
    expect(progressLine('peak', at(20_000), 0.1, 2)).toBe('peak stage 2/4: 3m20s of 10m (20s at scale 0.1), 12.0 answers/min, 100 answers: 3 refused by the gateway, 0 provider 429s, 3 failed');
    expect(progressLine('peak', at(75_000), 0.1, 2)).toBe('peak draining, 12 in flight: 12m30s, past the 10m plan (1m15s at scale 0.1), 12.0 answers/min, 100 answers: 3 refused by the gateway, 0 provider 429s, 3 failed');
    expect(progressLine('peak', at(20_000), 1, 0.2)).toBe('peak stage 2/4: 20s of 1m, 12.0 answers/min, 100 answers: 3 refused by the gateway, 0 provider 429s, 3 failed');
  });

  it('without a TTY writes a line per tenth of the plan, goes on through the drain, and ends with a line', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    const isTTY = process.stderr.isTTY;
    process.stderr.isTTY = false;
    try {
      const progress = progressReporter('peak', 0.1);
      for (let ms = 0; ms <= 90_000; ms += 1_000) progress.tick(at(ms, { requests: ms / 1000, refusals: ms > 60_000 ? 5 : 0 }));
      progress.done();
    } finally {
      process.stderr.isTTY = isTTY;
    }
    // 0..10 tenths of the plan, then 11..15 through the 30 s drain, then the end.
    expect(lines).toHaveLength(17);
    expect(lines[11]).toContain('peak draining, 12 in flight: 11m, past the 10m plan (1m6s at scale 0.1)');
    expect(lines[11]).toContain('5 refused by the gateway');
    expect(lines.at(-1)).toBe('peak done after 15m (1m30s at scale 0.1): 90 answers: 5 refused by the gateway, 0 provider 429s, 3 failed\n');
  });
});
