import { MIXES } from '../../loadtests/mixes.ts';
import { describe, expect, it } from 'vitest';
import { customScenario } from '../../loadtests/scenarios.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { runLoad } from '../loadgen/engine.ts';
import { recordAnswer } from '../loadgen/image-iteration.ts';
import { RUN_SUB_METRICS } from './run-facts.ts';
import { RunRecorder } from './run-recorder.ts';
import { trailingWindowMs } from './trailing-window.ts';
import { errorEvent, partialImageEvent, type StreamEcho } from '../openai/stream-events.ts';

const refusal = JSON.stringify({ error: { message: 'refused', type: 'ratelab_gateway_error', param: null, code: 'queue_full' } });

describe('RunRecorder', () => {
  it('records a run the engine drives with its metrics: series, sub-metrics, refusals by reason and the summary', async () => {
    const clock = new VirtualClock(0);
    // 10 arrivals a second for 10 s; every fifth is refused, the rest are images after 200 ms.
    const plan = customScenario({ rate: 600, durationMs: 10_000 }, { capacity: 600, timeScale: 1 });
    const recorder = new RunRecorder({ plan, tickMs: 1000, startedAt: clock.now(), mix: MIXES.single! });
    expect(recorder.windowMs).toBe(trailingWindowMs(10_000, 1000));
    const engine = recorder.engineOptions();
    expect(engine.subMetrics).toEqual([...RUN_SUB_METRICS]);
    const run = runLoad({
      options: plan.options,
      clock,
      ...engine,
      iterations: (metrics) => ({
        default: async (ctx) => {
          const sentAt = clock.now();
          const refused = ctx.iteration % 5 === 4;
          if (!refused) await clock.sleep(200);
          recordAnswer(metrics, ctx, { status: refused ? 429 : 200, text: refused ? refusal : '{"data":[{}]}', headers: {}, sentAt, firstByteAt: clock.now(), doneAt: clock.now(), class: 'gen-low', bytesSent: 10 });
        },
      }),
    });
    const sample = (): void => {
      recorder.sample(clock.now(), 0);
      if (clock.now() < 10_000) clock.setTimer(sample, 1000);
    };
    clock.setTimer(sample, 1000);
    await clock.runAll();
    const result = await run;
    expect(result.metrics).toBe(recorder.metrics);
    const points = recorder.points;
    expect(points.length).toBe(10);
    const offered = points.reduce((n, p) => n + p.offered, 0);
    const refusals = points.reduce((n, p) => n + p.refusals, 0);
    const figures = recorder.figures(result, { engine: 'test', timeScale: 1, capacity: 600 });
    expect(figures.requests).toBe(offered);
    expect(figures.refusalsByReason).toEqual({ queue_full: refusals });
    expect(figures.images).toBe(figures.requests - refusals);
    const summary = recorder.summary(result, figures);
    expect(summary.ratelab).toBe(figures);
    expect(summary.metrics.http_reqs!.values.count).toBe(figures.requests);
    expect(summary.metrics['http_req_duration{status:200}']!.values['p(95)']).toBe(200);
  });

  it("a 200 stream that ends in an error event is an answer, not an image: not in images, the check, per class or the series' images", async () => {
    const clock = new VirtualClock(0);
    const plan = customScenario({ rate: 600, durationMs: 4_500 }, { capacity: 600, timeScale: 1 });
    const mix = { name: 'two', description: 'two classes of one request', classes: [{ ...MIXES.single!.classes[0]!, name: 'a', weight: 1 }, { ...MIXES.single!.classes[0]!, name: 'b', weight: 1 }] };
    const recorder = new RunRecorder({ plan, tickMs: 1000, startedAt: clock.now(), mix });
    // The events the mock sends for an output-stage moderation block: a partial image, then the error.
    const echo: StreamEcho = { background: 'opaque', output_format: 'png', quality: 'low', size: '1024x1024', created_at: 0 };
    const blocked = partialImageEvent('generations', 'AAAA', 0, echo) + errorEvent({ message: 'blocked', type: 'image_generation_user_error', param: null, code: 'moderation_blocked' });
    const run = runLoad({
      options: plan.options,
      clock,
      ...recorder.engineOptions(),
      iterations: (metrics) => ({
        default: async (ctx) => {
          const sentAt = clock.now();
          await clock.sleep(100);
          const cls = ctx.iteration % 2 === 0 ? 'a' : 'b';
          const stopped = cls === 'b' && ctx.iteration % 4 === 1;
          recordAnswer(metrics, ctx, { status: 200, text: stopped ? blocked : '{"data":[{}]}', headers: {}, sentAt, firstByteAt: sentAt + 10, doneAt: clock.now(), class: cls, bytesSent: 10 });
        },
      }),
    });
    const sample = (): void => {
      recorder.sample(clock.now(), 0);
      if (clock.now() < 6_000) clock.setTimer(sample, 1000);
    };
    clock.setTimer(sample, 1000);
    await clock.runAll();
    const result = await run;
    const figures = recorder.figures(result, { engine: 'test', timeScale: 1, capacity: 600 });
    const blockedCount = result.metrics.get('checks{check:an image}')!.fails;
    expect(blockedCount).toBeGreaterThan(0);
    expect(figures.images).toBe(figures.requests - blockedCount);
    // An error in OpenAI's shape is a clear answer.
    expect(result.metrics.get('checks{check:an image or a clear error}')!.fails).toBe(0);
    expect(figures.classes!.find((c) => c.class === 'a')!.images).toBe(figures.classes!.find((c) => c.class === 'a')!.requests);
    expect(figures.classes!.find((c) => c.class === 'b')!.images).toBe(figures.classes!.find((c) => c.class === 'b')!.requests - blockedCount);
    // One-second intervals, every answer inside them: the per-second rates are counts.
    const points = recorder.points;
    expect(points.reduce((n, p) => n + p.ok, 0)).toBe(figures.images);
    expect(points.reduce((n, p) => n + p.errors, 0)).toBe(blockedCount);
  });
});

