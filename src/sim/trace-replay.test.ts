import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantArrivals, rampingArrivals, rateSegments } from '../loadgen/executors/arrival-schedule.ts';
import { toMs } from '../core/duration.ts';
import type { TraceLine } from '../gateway/trace-line.ts';
import { pickClass } from '../../loadtests/mixes.ts';
import { readTrace, replayOf } from './trace-replay.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function line(atMs: number, over: Partial<TraceLine> = {}): TraceLine {
  return {
    v: 1, at: new Date(T0 + atMs).toISOString(), timeScale: 1, client: 'web', endpoint: 'generations', model: 'gpt-image-1.5', quality: 'medium', size: '1024x1024', n: 1, format: 'png',
    stream: false, partialImages: 0, inputImages: 0, inputImageSizes: [], mask: false, requestBytes: 120, status: 200, completed: true, source: 'upstream', upstream: 'openai', upstreamStatus: 200,
    errorType: null, errorCode: null, latencyMs: 30_000, firstImageMs: 30_000, queueMs: 0, attempts: 1, usage: { inputTokens: 10, outputTokens: 1056 }, rateLimit: null, ...over,
  };
}

/** The arrivals a replay's ramping-arrival-rate makes, production ms from its start (the engine's own schedule). */
function arrivalsOf(r: ReturnType<typeof replayOf>): number[] {
  const s = r.plan.options.scenarios.replay!;
  if (s.executor !== 'ramping-arrival-rate') throw new Error(s.executor);
  return [...rampingArrivals(rateSegments(s.startRate ?? 0, toMs(s.timeUnit!), s.stages.map((st) => ({ durationMs: toMs(st.duration), target: st.target }))))];
}

describe('replayOf', () => {
  // 3 a second for 20 s, then 10 a second for 10 s: 160 requests, 1 in 4 an edit of two 512² references.
  const lines: TraceLine[] = [];
  for (let t = 0; t < 20_000; t += 1000 / 3) lines.push(line(t));
  for (let t = 20_000; t < 30_000; t += 100) lines.push(line(t));
  lines.forEach((l, i) => i % 4 === 3 && Object.assign(l, { endpoint: 'edits', inputImages: 2, inputImageSizes: ['512x512', '512x512'] }));

  it('sends what the trace had, bin by bin, and its classes in their proportions', () => {
    const r = replayOf(lines);
    const at = arrivalsOf(r);
    expect(at).toHaveLength(lines.length);
    expect(at.filter((t) => t < 20_000)).toHaveLength(60);
    expect(at.filter((t) => t >= 20_000)).toHaveLength(100);
    expect(r.mix.classes).toEqual([
      expect.objectContaining({ name: 'gen-medium-1024x1024-gpt-image-1.5', weight: 120, endpoint: 'generations' }),
      expect.objectContaining({ name: 'edit-medium-1024x1024-2ref-gpt-image-1.5', weight: 40, endpoint: 'edits', inputImages: { count: 2, width: 512, height: 512 } }),
    ]);
    expect(r).toMatchObject({ replayed: 160, skipped: 0 });
    expect(r.spanMs).toBeCloseTo(29_900, 0);
  });

  it('sends the trace\'s classes line by line: arrival i sends the class of the i-th request, whatever VU runs it', () => {
    // Written as answers ended, so out of arrival order in the file: a slow edit is written after quicker requests that came later.
    const shuffled = [line(2000), line(0, { endpoint: 'edits', inputImages: 1, inputImageSizes: ['512x512'] }), line(1000, { quality: 'high' }), line(3000, { quality: 'high' })];
    const r = replayOf(shuffled);
    const sent = Array.from({ length: 4 }, (_, i) => pickClass(r.mix, 99, 7 * i, i).name.split('-').slice(0, 2).join('-'));
    expect(sent).toEqual(['edit-medium', 'gen-high', 'gen-medium', 'gen-high']);
    expect(r.mix.sequence).toHaveLength(4);
  });

  it('×k sends k times the arrivals over the same curve, each line\'s class k times in the trace\'s order', () => {
    const r = replayOf(lines, { rateFactor: 2.5 });
    const at = arrivalsOf(r);
    expect(at).toHaveLength(400);
    expect(at.filter((t) => t < 20_000)).toHaveLength(150);
    expect(r.mix.sequence).toHaveLength(400);
    // Line L is arrivals ⌈2.5·L⌉ … below 2.5·(L+1): line 3 (an edit) arrivals 8, 9; line 4 (a generation) 10, 11, 12.
    const names = (from: number, to: number) => r.mix.sequence!.slice(from, to).map((i) => r.mix.classes[i]!.endpoint);
    expect(names(8, 12)).toEqual(['edits', 'edits', 'generations', 'generations']);
    // Even lines get 3 arrivals and odd ones 2; every edit is an odd line (3, 7, 11, …): 40 edits × 2.
    const edits = r.mix.sequence!.filter((i) => r.mix.classes[i]!.endpoint === 'edits').length;
    expect(edits).toBe(80);
  });

  it('reads a time-scaled trace in production time, and leaves out requests the gateway could not read', () => {
    const scaled = [line(0, { timeScale: 0.01 }), line(100, { timeScale: 0.01 }), line(150, { timeScale: 0.01, model: null, status: 400, quality: null })];
    const r = replayOf(scaled);
    expect(r.spanMs).toBe(10_000);
    expect(r).toMatchObject({ replayed: 2, skipped: 1 });
    expect(arrivalsOf(r)).toHaveLength(2);
  });

  it('keeps a stream and its partial images, n and the format in the class', () => {
    const r = replayOf([line(0, { stream: true, partialImages: 2, format: 'webp', quality: 'low' }), line(10, { n: 4 })]);
    expect(r.mix.classes.map((c) => c.name).sort()).toEqual(['gen-low-1024x1024-stream2-webp-gpt-image-1.5', 'gen-medium-1024x1024-n4-gpt-image-1.5']);
    expect(r.mix.classes.find((c) => c.stream)).toMatchObject({ partialImages: 2, format: 'webp' });
  });

  it("keeps the priority a request waited at in its class (a line without one, from an older gateway, is normal)", () => {
    const r = replayOf([line(0, { client: 'web-high', priority: 'high' }), line(100), line(200, { priority: 'normal' }), line(300, { client: 'batch', priority: 'low' })]);
    expect(r.mix.classes).toEqual([
      expect.objectContaining({ name: 'gen-medium-1024x1024-gpt-image-1.5', weight: 2 }),
      expect.objectContaining({ name: 'gen-medium-1024x1024-pri-high-gpt-image-1.5', weight: 1, priority: 'high' }),
      expect.objectContaining({ name: 'gen-medium-1024x1024-pri-low-gpt-image-1.5', weight: 1, priority: 'low' }),
    ]);
    expect(r.mix.classes[0]!.priority).toBeUndefined();
    expect(Array.from({ length: 4 }, (_, i) => pickClass(r.mix, 1, i, i).priority ?? 'normal')).toEqual(['high', 'normal', 'normal', 'low']);
  });

  it('refuses a rate factor that is not > 0', () => {
    expect(() => replayOf(lines, { rateFactor: 0 })).toThrow('Expected `--rate-factor` to be a number > 0, got `0` (number)');
  });

  it('constant bins agree with a constant-arrival-rate of the same rate', () => {
    const steady = Array.from({ length: 120 }, (_, i) => line(i * 500));
    expect(arrivalsOf(replayOf(steady))).toHaveLength([...constantArrivals(2, 1000, 60_000)].length);
  });
});

describe('readTrace', () => {
  const write = (text: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-trace-read-')), 't.jsonl');
    writeFileSync(file, text);
    return file;
  };

  it('reads valid lines and names a bad one by its number', () => {
    const ok = JSON.stringify(line(0));
    expect(readTrace(write(`${ok}\n\n${ok}\n`))).toHaveLength(2);
    expect(() => readTrace(write(`${ok}\n{"v":1,"at":"x"}\n`))).toThrow(/^Invalid trace `.*` line 2: Expected `at` to be/);
    expect(() => readTrace(write(`${ok}\nnot json\n`))).toThrow(/line 2: not JSON/);
    expect(() => readTrace(write(JSON.stringify({ ...line(0), v: 2 })))).toThrow('line 1: Expected `v` to be 1 (this ratelab\'s trace format), got 2');
    expect(() => readTrace(write(''))).toThrow('to hold at least one line, got none');
  });
});
