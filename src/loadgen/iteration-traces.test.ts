import { describe, expect, it } from 'vitest';
import { IterationTraces } from './iteration-traces.ts';

const W3C = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-0[01]$/;

describe('a trace per load-test request', () => {
  it('writes valid, distinct W3C traceparents and flags the asked share of them sampled', () => {
    for (const [ratio, low, high] of [[0, 0, 0], [1, 1, 1], [0.25, 0.2, 0.3]] as const) {
      const traces = new IterationTraces(ratio, 1, 0);
      const made = Array.from({ length: 4000 }, () => traces.next());
      expect(made.every((t) => W3C.test(t.header) && t.header.slice(3, 35) === t.traceId)).toBe(true);
      expect(new Set(made.map((t) => t.traceId)).size).toBe(4000);
      const share = made.filter((t) => t.sampled).length / made.length;
      expect(share).toBeGreaterThanOrEqual(low);
      expect(share).toBeLessThanOrEqual(high);
      expect(made.every((t) => t.header.endsWith(t.sampled ? '-01' : '-00'))).toBe(true);
    }
  });

  it('keeps the slowest sampled answers with their trace ids, slowest first, in production time', () => {
    const traces = new IterationTraces(1, 0.01, 1_000, 3);
    const sent = [5, 40, 12, 33, 7, 50, 1].map((ms, i) => ({ t: traces.next(), ms, at: 1_000 + i * 100 }));
    for (const s of sent) traces.record(s.t, s.at, s.at + s.ms, 'gen', 200);
    const slowest = traces.slowest();
    expect(slowest.map((s) => s.latencyMs)).toEqual([5_000, 4_000, 3_300]);
    expect(slowest[0]).toEqual({ traceId: sent[5]!.t.traceId, latencyMs: 5_000, class: 'gen', status: 200, atS: 50 });
    // An unsampled trace cannot be looked up: however slow, it is not named.
    const none = new IterationTraces(0, 1, 0);
    none.record(none.next(), 0, 60_000, 'gen', 200);
    expect(none.slowest()).toEqual([]);
  });

  it('refuses a ratio outside 0–1', () => {
    expect(() => new IterationTraces(1.5, 1, 0)).toThrow('Expected `traceRatio` to be a number from 0 to 1, got `1.5` (number)');
  });
});
