import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIXES } from '../../loadtests/mixes.ts';
import type { ClassFigures } from '../report/run-facts.ts';
import { runSim } from './run-sim.ts';

describe('runSim', () => {
  it('sends a mix: each class its share, edits through the edits path, streams read to their last event, figures per class', { timeout: 60_000 }, async () => {
    const mixed = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1, mix: MIXES.default! });
    const figures = mixed.summary.ratelab;
    expect(figures.mix).toBe('default');
    const classes = figures.classes as ClassFigures[];
    expect(classes.map((c) => c.class)).toEqual(MIXES.default!.classes.map((c) => c.name));
    expect(classes.reduce((a, c) => a + c.requests, 0)).toBe(figures.requests);
    expect(classes.reduce((a, c) => a + c.images, 0)).toBe(figures.images);
    for (const c of classes) {
      expect(Math.abs(c.requests / figures.requests - c.share)).toBeLessThan(0.05);
      expect(c.images).toBeGreaterThan(0);
    }
    const byName = new Map(classes.map((c) => [c.class, c]));
    // A stream holds its slot until its final event, seconds after it starts; its first partial comes before that.
    const preview = byName.get('gen-preview')!;
    expect(preview.p50Ms!).toBeGreaterThan(5_000);
    expect(preview.firstImageP95Ms!).toBeLessThan(preview.p95Ms!);
    // A whole answer's first image is the answer.
    const medium = byName.get('gen-medium')!;
    expect(medium.firstImageP95Ms).toBe(medium.p95Ms);
    // High quality and three references cost more time than medium squares.
    expect(byName.get('edit-high')!.p50Ms!).toBeGreaterThan(medium.p50Ms!);
    expect(mixed.summary.metrics['http_reqs{class:edit-high}']!.values.count).toBe(byName.get('edit-high')!.requests);

    const single = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1 });
    expect(single.summary.ratelab.mix).toBe('single');
    expect(single.summary.ratelab.classes).toBeUndefined();
    expect(Object.keys(single.summary.metrics).some((m) => m.includes('class:'))).toBe(false);
  });

  it('same seed → byte-identical summary; another seed → different, consistent results', { timeout: 60_000 }, async () => {
    const a = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 11 });
    const b = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 11 });
    const c = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 12 });
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
    expect(JSON.stringify(b.points)).toBe(JSON.stringify(a.points));
    expect(JSON.stringify(c.summary)).not.toBe(JSON.stringify(a.summary));
    const ra = a.summary.ratelab as Record<string, number>;
    const rc = c.summary.ratelab as Record<string, number>;
    // The arrivals are the same schedule; latency draws differ, the outcome stays close.
    expect(ra.requests).toBe(740);
    expect(Math.abs(ra.images! - rc.images!) / ra.images!).toBeLessThan(0.05);
    expect(a.summary.metrics['http_req_duration']!.values['p(95)']).not.toBe(c.summary.metrics['http_req_duration']!.values['p(95)']);
  });

  it('simulates the limiter keeping the provider out of 429s, and the storm without it', { timeout: 60_000 }, async () => {
    const limited = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1 });
    const none = await runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1, limiter: 'none' });
    const l = limited.summary.ratelab as Record<string, number>;
    const n = none.summary.ratelab as Record<string, number>;
    expect(l.provider429Rate).toBeLessThan(0.01);
    expect(n.provider429Rate).toBeGreaterThan(0.2);
    expect(l.images).toBeGreaterThan(n.images!);
    expect(l.lostRequests).toBe(0);
    // The run takes simulated minutes, not real ones.
    expect(limited.run.durationMs).toBeGreaterThan(600_000);
  });

  it('opens the circuit on an outage that answers 503 "engine overloaded": fewer than 20 attempts reach the dead upstream', { timeout: 60_000 }, async () => {
    const opens = await runSim({ scenario: 'recovery', profile: 'openai', tier: 3, seed: 1 });
    const off = await runSim({ scenario: 'recovery', profile: 'openai', tier: 3, seed: 1, limiter: { circuit: { contentionOpens: false } } });
    const dead = (r: typeof opens) => (r.summary.ratelab as { provider: { byStatus: Record<string, number> } }).provider.byStatus['503'] ?? 0;
    expect(dead(opens)).toBeLessThan(20);
    // Without it, contention only backs off: the dead upstream takes far more.
    expect(dead(off)).toBeGreaterThan(2 * dead(opens));
  });
});

describe('runSim over a day', () => {
  it('simulates 24 h of diurnal demand: hourly stages, at most ~1 000 series points, the same twice', { timeout: 120_000 }, async () => {
    // Tier 1 keeps it small (about 5 images/min of capacity): the bench runs tier 5.
    const a = await runSim({ scenario: 'day', profile: 'openai', tier: 1, seed: 3 });
    const stages = (a.plan.options.scenarios.day as { stages: unknown[] }).stages;
    expect(stages).toHaveLength(24);
    expect(a.points.length).toBeGreaterThan(900);
    expect(a.points.length).toBeLessThanOrEqual(1010);
    const r = a.summary.ratelab;
    // Mean demand 64 % of capacity over 1 440 minutes.
    expect(r.requests / (0.64 * r.capacityImagesPerMinute * 1440)).toBeGreaterThan(0.97);
    expect(r.requests / (0.64 * r.capacityImagesPerMinute * 1440)).toBeLessThan(1.03);
    expect(r.lostRequests).toBe(0);
    const b = await runSim({ scenario: 'day', profile: 'openai', tier: 1, seed: 3 });
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
  });

  it("the adaptive limiter's slow start: a tier-5 account serves the default mix's steady load, where +1 per round trip from 8 left most of it refused", { timeout: 60_000 }, async () => {
    const run = (slowStart: boolean) => runSim({ scenario: 'steady', profile: 'openai', tier: 5, seed: 1, mix: MIXES.default!, limiter: { concurrency: { slowStart } } });
    const [slow, additive] = await Promise.all([run(true), run(false)]);
    // Measured: 1 750 of 1 750 images with it; 391 without (1 216 refused as deadline_unmeetable).
    expect(slow.summary.ratelab.images).toBe(slow.summary.ratelab.requests);
    expect(additive.summary.ratelab.images).toBeLessThan(additive.summary.ratelab.requests / 2);
    expect(slow.summary.ratelab.provider429Rate).toBe(0);
  });

  it("sends each class at its priority: under the peak's overload the paid plan's classes keep their P95 and the free plan's waits and is refused", { timeout: 60_000 }, async () => {
    const mix = MIXES.priorities!;
    // The same classes with every priority left out: what the account gives them without one.
    const flat = { ...mix, name: 'flat', classes: mix.classes.map(({ priority: _, ...c }) => c) };
    const [ranked, equal] = await Promise.all([mix, flat].map((m) => runSim({ scenario: 'peak', profile: 'openai', tier: 3, seed: 1, mix: m })));
    const of = (r: typeof ranked) => new Map(r!.summary.ratelab.classes!.map((c) => [c.class, c]));
    const [p, e] = [of(ranked), of(equal)];
    expect([...p.values()].map((c) => c.priority)).toEqual(['high', 'high', 'normal', 'low']);
    // High: every request an image, far sooner than when all wait alike (measured: paid-preview P95 26 s against 314 s).
    for (const name of ['paid-preview', 'paid-edit']) {
      expect(p.get(name)!.images, name).toBe(p.get(name)!.requests);
      expect(p.get(name)!.p95Ms!, name).toBeLessThan(e.get(name)!.p95Ms! / 4);
    }
    // The same shape at normal and at low: low waits behind and takes the refusals (measured: 58 of 218 images). Its P95 is not
    // compared: the free requests that got through are the ones that came before the queue did.
    expect(p.get('paid-medium')!.images).toBe(p.get('paid-medium')!.requests);
    expect(p.get('free-medium')!.images).toBeLessThan(p.get('free-medium')!.requests / 2);
    // Without priorities the two shapes fare alike.
    expect(e.get('free-medium')!.p95Ms! / e.get('paid-medium')!.p95Ms!).toBeGreaterThan(0.85);
    expect(e.get('free-medium')!.p95Ms! / e.get('paid-medium')!.p95Ms!).toBeLessThan(1.15);
  });

  it("a stream blocked at the output stage (200, then an error event) is an answer, not an image, as a real client reads it", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-moderation-'));
    const profile = join(dir, 'moderated.yaml');
    // Every fifth request blocked, all of them after the generation (the stream has answered 200 by then).
    writeFileSync(profile, 'extends: openai\nname: moderated\ndescription: output moderation\nmoderation: { rate: 0.2, outputShare: 1 }\n');
    const streams = { name: 'streams', description: 'streamed previews only', classes: [MIXES.default!.classes.find((c) => c.name === 'gen-preview')!] };
    const r = await runSim({ scenario: 'steady', profile, tier: 3, seed: 4, mix: streams });
    const f = r.summary.ratelab;
    const noImage = r.run.metrics.get('checks{check:an image}')!.fails;
    // HTTP said 200 to all of them; the figures count only those that brought their image.
    expect(r.run.metrics.get('http_req_duration{status:200}')!.trend!.count).toBe(f.requests);
    expect(noImage / f.requests).toBeGreaterThan(0.1);
    expect(noImage / f.requests).toBeLessThan(0.3);
    expect(f.images).toBe(f.requests - noImage);
    // The error is in OpenAI's shape: a clear answer all the same.
    expect(r.run.metrics.get('checks{check:an image or a clear error}')!.fails).toBe(0);
  });
});

