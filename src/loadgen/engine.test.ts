import { describe, expect, it } from 'vitest';
import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { runLoad, type RunResult } from './engine.ts';
import { evenSplit, ExecutionTuple, parseSegment, parseSequence } from './execution-segment.ts';
import type { IterationContext } from './iteration.ts';

/** Runs `options` on a virtual clock with iterations that take `iterationMs`; records start times. */
async function simulate(
  options: LoadOptions,
  iterationMs: number | ((ctx: IterationContext) => number),
  extra: Record<string, (ctx: IterationContext) => Promise<void>> = {},
  segment?: ExecutionTuple,
) {
  const clock = new VirtualClock(0);
  const starts: { at: number; vu: number; scheduledAt: number; scenario: string }[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const run = runLoad({
    options,
    clock,
    ...(segment ? { segment } : {}),
    iterations: () => ({
      default: async (ctx) => {
        starts.push({ at: clock.now(), vu: ctx.vu, scheduledAt: ctx.scheduledAt, scenario: ctx.scenario });
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        try {
          await clock.sleep(typeof iterationMs === 'number' ? iterationMs : iterationMs(ctx), ctx.signal);
        } finally {
          concurrent--;
        }
      },
      ...extra,
    }),
  });
  // Observe a rejection at once (bad options reject before the clock runs).
  const settled = run.then((r) => ({ r }), (e: unknown) => ({ e }));
  await clock.runAll();
  const outcome = await settled;
  if ('e' in outcome) throw outcome.e;
  const result: RunResult = outcome.r;
  const count = (name: string) => result.metrics.get(name)!.sum;
  return { result, starts, maxConcurrent, clock, iterations: count('iterations'), dropped: count('dropped_iterations') };
}

describe('constant-arrival-rate', () => {
  it('starts each iteration on an absolute schedule', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2 } }, thresholds: {} }, 50);
    expect(r.starts.map((s) => s.at)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(r.iterations).toBe(10);
    expect(r.dropped).toBe(0);
    expect(r.result.durationMs).toBe(1000);
  });

  it('drops (never queues) an iteration when no VU is free', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2, maxVUs: 2, gracefulStop: '5s' } }, thresholds: {} }, 1000);
    expect(r.starts.map((s) => s.at)).toEqual([0, 100]);
    expect(r.dropped).toBe(8);
    expect(r.iterations).toBe(2);
  });

  it('grows towards maxVUs one VU at a time, after a drop', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 1, maxVUs: 3 } }, thresholds: {} }, 250);
    // t=0 VU1; t=100 dropped (VU2 made); t=200 VU2; t=300 VU1 (free at 250); ...
    expect(r.starts[0]!.at).toBe(0);
    expect(r.starts.map((s) => s.at)).not.toContain(100);
    expect(new Set(r.starts.map((s) => s.vu)).size).toBe(3);
    expect(r.result.vus.initialized).toBe(3);
    expect(r.iterations + r.dropped).toBe(10);
  });

  it('gives running iterations gracefulStop after the duration, then interrupts them (not counted)', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1s', duration: '2s', preAllocatedVUs: 5, gracefulStop: '1s' } }, thresholds: {} }, 2500);
    expect(r.starts.map((s) => s.at)).toEqual([0, 1000]);
    expect(r.iterations).toBe(1); // the one started at 0 ends at 2500 ≤ 3000; the other is cut at 3000
    expect(r.result.durationMs).toBe(3000);
  });
});

describe('ramping-arrival-rate', () => {
  it('spaces iterations by the integral of the rate curve', async () => {
    // 0 → 10/s over 2 s: area 10 iterations; iteration i when 2.5 t² = i.
    const r = await simulate({ scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', stages: [{ duration: '2s', target: 10 }], preAllocatedVUs: 20 } }, thresholds: {} }, 1);
    expect(r.starts).toHaveLength(10);
    r.starts.forEach((s, i) => expect(s.at).toBeCloseTo(1000 * Math.sqrt(i / 2.5), 6));
  });

  it('holds, ramps down and counts per stage', async () => {
    const r = await simulate(
      { scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 5, timeUnit: '1s', stages: [{ duration: '2s', target: 5 }, { duration: '2s', target: 15 }, { duration: '1s', target: 0 }], preAllocatedVUs: 10 } }, thresholds: {} },
      1,
    );
    // 5×2 + (5+15)/2×2 + 15/2×1 = 10 + 20 + 7.5
    expect(r.starts).toHaveLength(38);
    expect(r.starts.filter((s) => s.at < 2000)).toHaveLength(10);
  });
});

describe('closed-model executors', () => {
  it('constant-vus: N VUs loop back to back for the duration', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'constant-vus', vus: 3, duration: '1s' } }, thresholds: {} }, 300);
    expect(r.maxConcurrent).toBe(3);
    expect(r.iterations).toBe(12); // 4 per VU: at 0, 300, 600, 900 (the last ends at 1200, within gracefulStop)
    expect(r.starts.every((s) => s.at < 1000)).toBe(true);
  });

  it('ramping-vus: follows the stages, ramping down after the current iteration', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 4 }, { duration: '1s', target: 4 }, { duration: '1s', target: 0 }], gracefulRampDown: '0s' } }, thresholds: {} }, 100);
    expect(r.maxConcurrent).toBe(4);
    const inSecond = (from: number) => new Set(r.starts.filter((s) => s.at >= from && s.at < from + 1000).map((s) => s.vu)).size;
    expect(inSecond(1000)).toBe(4);
    expect(r.starts.filter((s) => s.at >= 2900).length).toBeLessThanOrEqual(1);
    expect(r.starts.every((s) => s.at < 3000)).toBe(true);
  });

  it('per-vu-iterations: each VU runs its own count', async () => {
    const r = await simulate({ scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } }, thresholds: {} }, 10);
    expect(r.iterations).toBe(6);
    expect(r.result.durationMs).toBe(30);
  });

  it('shared-iterations: VUs share the count; iterations never started within maxDuration are dropped', async () => {
    const all = await simulate({ scenarios: { s: { executor: 'shared-iterations', vus: 3, iterations: 10 } }, thresholds: {} }, 10);
    expect(all.iterations).toBe(10);
    const cut = await simulate({ scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 10, maxDuration: '35ms', gracefulStop: '0s' } }, thresholds: {} }, 10);
    expect(cut.iterations).toBe(3); // 0, 10, 20 end in time; the one from 30 is interrupted at 35
    expect(cut.dropped).toBe(6);
  });

  it('startTime delays a scenario and exec picks its function', async () => {
    const r = await simulate(
      {
        scenarios: {
          main: { executor: 'constant-arrival-rate', rate: 2, timeUnit: '1s', duration: '1s', preAllocatedVUs: 1 },
          side: { executor: 'shared-iterations', vus: 1, iterations: 1, startTime: '700ms', exec: 'side' },
        },
        thresholds: {},
      },
      1,
      { side: async () => undefined },
    );
    expect(r.starts.map((s) => `${s.scenario}@${s.at}`)).toEqual(['main@0', 'main@500']);
    expect(r.iterations).toBe(3);
  });
});

describe('thresholds', () => {
  it('pass and fail on the aggregated metric, sub-metrics included', async () => {
    const r = await simulate(
      {
        scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 20 } },
        thresholds: { iteration_duration: ['p(95)<=50', 'avg<10', 'max<100'], iterations: ['count==20'], 'iterations{scenario:s}': ['count>=20'], 'iterations{scenario:other}': ['count>0'] },
      },
      (ctx) => (ctx.iteration === 19 ? 80 : 5),
    );
    expect(r.result.thresholds.map((t) => `${t.metric} ${t.source} ${t.failed ? 'fail' : 'ok'}`)).toEqual([
      'iteration_duration p(95)<=50 ok',
      'iteration_duration avg<10 ok',
      'iteration_duration max<100 ok',
      'iterations count==20 ok',
      'iterations{scenario:s} count>=20 ok',
      'iterations{scenario:other} count>0 fail',
    ]);
  });

  it('abortOnFail stops the run at the next evaluation after delayAbortEval', async () => {
    const r = await simulate(
      {
        scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '60s', preAllocatedVUs: 5 } },
        thresholds: { iteration_duration: [{ threshold: 'max<10', abortOnFail: true, delayAbortEval: '5s' }] },
      },
      50,
    );
    expect(r.result.aborted).toBe(true);
    expect(r.result.thresholds[0]!.failed).toBe(true);
    expect(r.result.durationMs).toBe(6000); // evaluations at 2, 4 s are before the delay; 6 s aborts
  });

  it('rejects thresholds that do not parse or do not fit the metric', async () => {
    await expect(simulate({ scenarios: {}, thresholds: { http_req_duration: ['p95<1'] } }, 1)).rejects.toThrow('Expected threshold `http_req_duration` to read like "p(95)<500" or "rate<0.01", got `p95<1` (string)');
    await expect(simulate({ scenarios: {}, thresholds: { http_req_failed: ['p(95)<1'] } }, 1)).rejects.toThrow('(a rate) to aggregate by rate');
  });
});

describe('execution segments', () => {
  const split = async (options: LoadOptions, n: number, iterationMs = 50) => {
    const { segments, sequence } = evenSplit(n);
    return Promise.all(segments.map((seg) => simulate(options, iterationMs, {}, new ExecutionTuple(parseSegment(seg), parseSequence(sequence)))));
  };

  it('N engines on a ramping-arrival-rate start the same iterations at the same times as one, none twice', async () => {
    const options: LoadOptions = {
      scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 2, timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 20, stages: [{ duration: '10s', target: 30 }, { duration: '5s', target: 30 }, { duration: '5s', target: 0 }] } },
      thresholds: {},
    };
    const whole = await simulate(options, 50);
    for (const n of [2, 3]) {
      const parts = await split(options, n);
      expect(parts.reduce((a, p) => a + p.iterations, 0)).toBe(whole.iterations);
      const starts = parts.flatMap((p) => p.starts.map((s) => s.scheduledAt)).sort((a, b) => a - b);
      expect(starts).toEqual(whole.starts.map((s) => s.scheduledAt));
      // Evenly: each within one of its share.
      for (const p of parts) expect(Math.abs(p.iterations - whole.iterations / n)).toBeLessThanOrEqual(1);
    }
  });

  it('a constant-arrival-rate splits its iterations and its VUs', async () => {
    const options: LoadOptions = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '3s', preAllocatedVUs: 4, maxVUs: 4 } }, thresholds: {} };
    const parts = await split(options, 2);
    expect(parts.map((p) => p.iterations)).toEqual([15, 15]);
    expect(parts.map((p) => p.result.metrics.get('vus_max')!.value)).toEqual([2, 2]);
  });

  it('closed-model VUs and shared iterations are split like k6 (ScaleInt64)', async () => {
    const vus = await split({ scenarios: { s: { executor: 'constant-vus', vus: 5, duration: '1s' } }, thresholds: {} }, 3, 100);
    expect(vus.map((p) => p.result.metrics.get('vus_max')!.value)).toEqual([2, 2, 1]);
    const shared = await split({ scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 9, maxDuration: '1m' } }, thresholds: {} }, 2, 10);
    expect(shared.map((p) => p.iterations)).toEqual([5, 4]);
    const ramping = await split({ scenarios: { s: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '2s', target: 6 }, { duration: '1s', target: 6 }] } }, thresholds: {} }, 2, 100);
    expect(ramping.map((p) => p.maxConcurrent)).toEqual([3, 3]);
  });
});
