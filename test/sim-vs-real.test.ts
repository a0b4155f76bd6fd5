import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLoadtest } from '../src/cli/loadtest-run.ts';
import { runSim } from '../src/sim/run-sim.ts';

const SCALE = 0.01;

describe('simulation vs a real run', () => {
  it("the peak with the gateway's default limiter: goodput and P95 agree within 10 %", { timeout: 120_000 }, async () => {
    const sim = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1 });
    const real = await runLoadtest({ scenario: 'peak', timeScale: SCALE, tier: 3, profile: 'openai', seed: 1, outDir: mkdtempSync(join(tmpdir(), 'ratelab-simreal-')) });
    const s = sim.summary.ratelab as Record<string, number>;
    const r = real.summary.ratelab as Record<string, number>;
    const p95 = (summary: typeof sim.summary, scale: number) => summary.metrics['http_req_duration{status:200}']!.values['p(95)']! / scale;
    const rows = {
      goodput: [s.goodputImagesPerMinute!, r.goodputImagesPerMinute!],
      images: [s.images!, r.images!],
      p95Ms: [p95(sim.summary, 1), p95(real.summary, SCALE)],
    };
    console.log('sim vs real (scale 1 units):', JSON.stringify(rows), `sim took ${sim.wallMs.toFixed(0)} ms`);
    for (const [name, [a, b]] of Object.entries(rows)) expect(Math.abs(a! - b!) / b!, name).toBeLessThan(0.1);
    expect(s.provider429Rate).toBeLessThan(0.01);
    expect(r.provider429Rate).toBeLessThan(0.01);
  });
});
