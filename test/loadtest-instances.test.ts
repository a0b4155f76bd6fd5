import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/report/run-facts.ts';
import { readSamples } from '../src/loadgen/sample-log.ts';

const ratelab = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/ratelab.js', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;

describe('one test across N engines (execution segments), merged', () => {
  // Below capacity (30 of 50 images/min), so latency is the mock's own: the same seed gives the same story to one engine or two.
  const load = ['loadtest', 'custom', '--rate', '30', '--duration', '3m', '--time-scale', '0.04', '--mix', 'single', '--seed', '5'];

  it('N = 2 embedded engines deliver the arrivals of N = 1 (± 1 per segment) and its P95 within 5 %, merged exactly from their samples', { timeout: 180_000 }, async () => {
    const one = mkdtempSync(join(tmpdir(), 'ratelab-n1-'));
    const two = mkdtempSync(join(tmpdir(), 'ratelab-n2-'));
    const r1 = ratelab([...load, '--out', one]);
    expect(r1.status, r1.stderr).toBe(0);
    // A threshold of its own, judged on the merged test (each engine fails it too, and still hands over its samples).
    const r2 = ratelab([...load, '--instances', '2', '--threshold', 'http_req_duration=p(95)<1000', '--out', two]);
    expect(r2.status, r2.stderr + r2.stdout).toBe(99);
    expect(r2.stdout).toContain('2 embedded engines, execution segments 0:1/2, 1/2:1 (sequence 0,1/2,1)');
    expect(r2.stdout).toContain('ratelab custom (2 embedded engines merged, time scale 0.04');

    const s1 = summaryOf(one);
    const s2 = summaryOf(two);
    const reqs = (s: RunSummary) => s.metrics.http_reqs!.values.count!;
    const p95 = (s: RunSummary) => s.metrics['http_req_duration{status:200}']!.values['p(95)']!;
    expect(Math.abs(reqs(s2) - reqs(s1))).toBeLessThanOrEqual(2);
    expect(Math.abs(p95(s2) / p95(s1) - 1)).toBeLessThan(0.05);
    expect(s2.ratelab.engine).toBe('embedded ×2');
    expect(s2.metrics.http_req_duration!.thresholds).toEqual({ 'p(95)<40': { ok: false } });
    expect(s2.ratelab.instances).toEqual([
      { segment: '0:1/2', out: join(two, 'instance-1') },
      { segment: '1/2:1', out: join(two, 'instance-2') },
    ]);

    // Exact, not averaged: the merged counts are the engines' sums, and the merged P95 is the P95 of every sample they wrote.
    const parts = [summaryOf(join(two, 'instance-1')), summaryOf(join(two, 'instance-2'))];
    expect(reqs(s2)).toBe(reqs(parts[0]!) + reqs(parts[1]!));
    for (const p of parts) expect(Math.abs(reqs(p) - reqs(s2) / 2)).toBeLessThanOrEqual(1);
    const values = (await Promise.all(parts.map((_, i) => readSamples(join(two, `instance-${i + 1}`, 'samples.jsonl.gz')))))
      .flatMap((f) => f.samples)
      .filter((s) => s.metric === 'http_req_duration' && s.tags?.status === '200')
      .map((s) => s.value)
      .sort((a, b) => a - b);
    expect(values).toHaveLength(reqs(s2));
    // Nearest rank, as k6 computes; the trend's histogram keeps 3 significant digits.
    const exact = values[Math.ceil(0.95 * values.length) - 1]!;
    expect(Math.abs(p95(s2) / exact - 1)).toBeLessThan(0.002);
    const report = readFileSync(join(two, 'report.html'), 'utf8');
    expect(report).toContain('2 engines (execution segments), merged');
    expect(report).toContain(`0:1/2 → ${join(two, 'instance-1')}`);

    // `ratelab merge`, for engines run elsewhere (k6-operator's pods): the same samples make the same figures.
    const three = mkdtempSync(join(tmpdir(), 'ratelab-merge-'));
    const files = [1, 2].map((i) => join(two, `instance-${i}`, 'samples.jsonl.gz'));
    const m = ratelab(['merge', 'custom', ...files, '--rate', '30', '--duration', '3m', '--time-scale', '0.04', '--capacity', '50', '--mix', 'single', '--threshold', 'http_req_duration=p(95)<1000', '--out', three]);
    expect(m.status, m.stderr + m.stdout).toBe(99);
    const s3 = summaryOf(three);
    expect(reqs(s3)).toBe(reqs(s2));
    expect(p95(s3)).toBe(p95(s2));
    expect(s3.metrics.http_req_duration!.thresholds).toEqual({ 'p(95)<40': { ok: false } });
    expect(m.stdout).toContain('ratelab custom (2 engines merged, time scale 0.04, capacity 50 images/min, mix single)');
  });

  it('with k6, starts N k6 processes with their segments and JSON output, and merges what they wrote', { timeout: 90_000 }, () => {
    const bin = mkdtempSync(join(tmpdir(), 'ratelab-fake-k6-'));
    const out = mkdtempSync(join(tmpdir(), 'ratelab-k6-split-'));
    // A stand-in for k6 (none is installable here): it records its flags and writes k6 JSON output lines for its segment,
    // one 200 answer of 1000 + 100·i ms per iteration it owns of 0..9 (striped as k6 does for two halves: even, odd).
    writeFileSync(
      join(bin, 'k6'),
      [
        '#!/usr/bin/env node',
        "const fs = require('fs'); const zlib = require('zlib');",
        'const args = process.argv.slice(2);',
        "if (args[0] === 'version') { console.log('k6 v1.8.0 (stand-in)'); process.exit(0); }",
        "const at = (f) => args[args.indexOf(f) + 1];",
        "const first = at('--execution-segment') === '0:1/2' ? 0 : 1;",
        "const file = at('--out').replace(/^json=/, '');",
        'const t0 = Date.now(); let lines = [];',
        "const point = (metric, value, tags, dt) => lines.push(JSON.stringify({ type: 'Point', metric, data: { time: new Date(t0 + dt).toISOString(), value, tags } }));",
        "lines.push(JSON.stringify({ type: 'Metric', metric: 'http_req_duration', data: { name: 'http_req_duration', type: 'trend', contains: 'time' } }));",
        "point('vus', 0, null, 0);",
        "for (let i = first; i < 10; i += 2) { const tags = { status: '200', scenario: 'custom' }; point('http_req_duration', 1000 + 100 * i, tags, 10 * i); point('http_reqs', 1, tags, 10 * i); point('iterations', 1, { scenario: 'custom' }, 10 * i); point('checks', 1, { check: 'an image or a clear error' }, 10 * i); }",
        "fs.writeFileSync(file, zlib.gzipSync(lines.join('\\n') + '\\n'));",
        "fs.writeFileSync(process.env.SUMMARY_PATH, JSON.stringify({ args, BASE_URL: process.env.BASE_URL }));",
      ].join('\n'),
    );
    chmodSync(join(bin, 'k6'), 0o755);
    const r = ratelab([...load, '--engine', 'k6', '--instances', '2', '--out', out], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const seen = [1, 2].map((i) => JSON.parse(readFileSync(join(out, `instance-${i}`, 'summary.json'), 'utf8')) as { args: string[]; BASE_URL: string });
    expect(seen.map((s) => s.args.slice(0, 5))).toEqual([
      ['run', '--execution-segment', '0:1/2', '--execution-segment-sequence', '0,1/2,1'],
      ['run', '--execution-segment', '1/2:1', '--execution-segment-sequence', '0,1/2,1'],
    ]);
    expect(seen[0]!.args[5]).toBe(`--out`);
    expect(seen[0]!.BASE_URL).toBe(seen[1]!.BASE_URL);
    const merged = summaryOf(out);
    expect(merged.ratelab.engine).toBe('k6 ×2');
    expect(merged.metrics.http_reqs!.values.count).toBe(10);
    // Every sample of both: 1000…1900 ms, so the median is 1400 and the max 1900.
    expect(merged.metrics.http_req_duration!.values.med).toBeCloseTo(1400, -1);
    expect(merged.metrics.http_req_duration!.values.max).toBe(1900);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('refuses a bad segment, flags that a split test sets per engine, and samples that are not there, naming them (exit 2)', () => {
    const gone = ratelab(['merge', 'peak', '/nonexistent/samples.jsonl.gz', '--capacity', '50']);
    expect(gone.status).toBe(2);
    expect(gone.stderr.trim()).toBe('ratelab: Expected `<samples...>` to be files of k6 JSON output (k6 run --out json=file), got `/nonexistent/samples.jsonl.gz` (string)');
    const bad = ratelab(['loadtest', 'peak', '--execution-segment', '2/3:1/3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('ratelab: Expected `--execution-segment` to start before it ends (from:to, like 0:1/2), got `2/3:1/3` (string)');
    const outside = ratelab(['loadtest', 'peak', '--execution-segment', '0:1/3', '--execution-segment-sequence', '0,1/2,1']);
    expect(outside.stderr).toContain("to be one of `--execution-segment-sequence`'s segments (0:1/2, 1/2:1)");
    const both = ratelab(['loadtest', 'peak', '--instances', '2', '--execution-segment', '0:1/2']);
    expect(both.status).toBe(2);
    expect(both.stderr.trim()).toBe('ratelab: Expected no `--execution-segment` with `--instances` (each engine gets its own segment, samples and outputs), got `0:1/2`');
  });
});
