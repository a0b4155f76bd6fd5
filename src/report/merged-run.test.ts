import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIXES } from '../../loadtests/mixes.ts';
import { customScenario } from '../../loadtests/scenarios.ts';
import { defineMetrics } from '../loadgen/engine.ts';
import { Metrics } from '../loadgen/metrics.ts';
import { readSamples, SampleWriter } from '../loadgen/sample-log.ts';
import { Trend } from '../loadgen/trend.ts';
import { mergedRun } from './merged-run.ts';

/** One engine's samples: answers of the given latencies, one every 100 ms from `t0`, with its busy VUs. */
async function engineFile(path: string, t0: number, latencies: number[], vus: number): Promise<void> {
  const metrics = new Metrics();
  defineMetrics(metrics);
  let now = t0;
  const writer = new SampleWriter(path, metrics, () => now);
  writer.point('vus', 0);
  for (const [i, ms] of latencies.entries()) {
    now = t0 + 100 * (i + 1);
    const tags = { status: '200', scenario: 'custom' };
    metrics.add('http_reqs', 1, tags);
    metrics.add('http_req_duration', ms, tags);
    metrics.add('checks', 1, { check: 'an image or a clear error' });
    metrics.add('vus', vus);
  }
  // As the engine does at its end: the VUs it made.
  writer.point('vus_max', 2 * vus);
  await writer.close();
}

describe('mergedRun', () => {
  const plan = customScenario({ rate: 60, durationMs: 60_000 }, { capacity: 50, timeScale: 1 });

  it('sums counts, takes percentiles over every sample, sums gauges across engines, judges thresholds on the whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-merge-'));
    const a = Array.from({ length: 50 }, (_, i) => 1000 + 10 * i);
    const b = Array.from({ length: 30 }, (_, i) => 5000 + 100 * i);
    await engineFile(join(dir, 'a.jsonl.gz'), 1_000_000, a, 3);
    await engineFile(join(dir, 'b.jsonl'), 1_000_050, b, 2);
    const { run, recorder } = await mergedRun({ files: [join(dir, 'a.jsonl.gz'), join(dir, 'b.jsonl')], plan, mix: MIXES.single!, tickMs: 1000 });
    expect(run.metrics.get('http_reqs')!.sum).toBe(80);
    const all = new Trend();
    for (const v of [...a, ...b]) all.add(v);
    const merged = run.metrics.get('http_req_duration{status:200}')!.trend!;
    for (const p of [50, 90, 95, 99]) expect(merged.percentile(p)).toBe(all.percentile(p));
    // Busy VUs: both engines' at once.
    expect(run.metrics.get('vus')!.gaugeMax).toBe(5);
    // A gauge's sum counts once every engine has said it: not one engine's 4 alone, then 10.
    expect(run.metrics.get('vus_max')).toMatchObject({ value: 10, gaugeMin: 10, gaugeMax: 10 });
    expect(run.startedAt).toBe(1_000_000);
    expect(run.durationMs).toBe(100 * 50);
    expect(run.thresholds.find((t) => t.metric === 'checks{check:an image or a clear error}')?.failed).toBe(false);
    expect(recorder.points.reduce((n, p) => n + p.completed * (p.t > 0 ? 1 : 0), 0)).toBeGreaterThan(0);
  });

  it('refuses a file that is not k6 JSON output, naming the line, and an empty merge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-merge-'));
    writeFileSync(join(dir, 'bad.jsonl'), '{"type":"Point","metric":"vus","data":{"time":"2026-12-04T00:00:00Z","value":1}}\nnot json\n');
    await expect(readSamples(join(dir, 'bad.jsonl'))).rejects.toThrow(`Expected ${join(dir, 'bad.jsonl')} line 2 to be one JSON object of k6's JSON output, got \`not json\``);
    writeFileSync(join(dir, 'empty.jsonl'), '');
    await expect(mergedRun({ files: [join(dir, 'empty.jsonl')], plan, mix: MIXES.single!, tickMs: 1000 })).rejects.toThrow('got none: did the engines run?');
  });
});
