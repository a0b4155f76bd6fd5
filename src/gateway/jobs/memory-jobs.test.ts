import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/virtual-clock.ts';
import { gatewayConfigSchema } from '../config.ts';
import type { UpstreamAnswer } from '../upstream-call.ts';
import { MemoryJobs } from './memory-jobs.ts';
import type { JobEvent, JobInput } from './types.ts';

const config = { ...gatewayConfigSchema.parse({}).jobs, maxAttempts: 3, backoff: 1_000, resultTtl: 60_000 };
const input: JobInput = { body: '{}', image: { model: 'gpt-image-1', prompt: 'x' } as JobInput['image'], client: { name: 'web', priority: 'high' } };
const json = (status: number, body: unknown): UpstreamAnswer => ({ status, headers: {}, body: Buffer.from(JSON.stringify(body)) });
const ok = json(200, { created: 1, data: [{ b64_json: 'AA==' }] });
const busy = json(503, { error: { message: 'busy', type: 'server_error', param: null, code: null } });
const bad = json(400, { error: { message: 'bad', type: 'invalid_request_error', param: 'size', code: null } });

function setup(answers: UpstreamAnswer[], opts: { hold?: boolean } = {}) {
  const clock = new VirtualClock();
  const signals: AbortSignal[] = [];
  let release: (() => void) | undefined;
  const jobs = new MemoryJobs(
    config,
    async (_input, signal) => {
      signals.push(signal);
      if (opts.hold) await new Promise<void>((resolve) => (release = resolve));
      return answers.shift() ?? ok;
    },
    1,
    clock,
  );
  return { clock, jobs, signals, release: () => release?.() };
}

describe('MemoryJobs', () => {
  it('runs a job to success and reports queued → started → succeeded', async () => {
    const { clock, jobs } = setup([ok]);
    const view = await jobs.submit(input);
    expect(view).toMatchObject({ status: 'queued', client: 'web', priority: 'high', attempts: 0, max_attempts: 3 });
    await clock.runAll();
    const done = await jobs.get(view.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, dead_letter: false, result: { data: [{ b64_json: 'AA==' }] } });
    expect((await jobs.history(view.id)).map((e) => e.type)).toEqual(['queued', 'started', 'succeeded']);
  });

  it('retries transient failures with exponential backoff, then dead-letters the job', async () => {
    const { clock, jobs } = setup([busy, busy, busy]);
    const seen: JobEvent[] = [];
    const view = await jobs.submit(input);
    jobs.subscribe(view.id, (e) => seen.push(e));
    await clock.runAll();
    const events = await jobs.history(view.id);
    expect(events.map((e) => `${e.type}:${e.attempt ?? ''}`)).toEqual(['queued:', 'started:1', 'retried:1', 'started:2', 'retried:2', 'started:3', 'failed:3']);
    const started = events.filter((e) => e.type === 'started').map((e) => e.at - events[0]!.at);
    expect(started).toEqual([0, 1_000, 3_000]); // 1 s, then 2 s
    // A subscriber sees every event from the moment it subscribed, in order.
    expect(seen.at(-1)?.type).toBe("failed");
    expect(seen).toEqual(events.slice(-seen.length));
    expect(await jobs.get(view.id)).toMatchObject({ status: 'failed', attempts: 3, dead_letter: true, error: { message: 'busy' } });
    expect(await jobs.deadLetters()).toEqual([{ id: view.id, client: 'web', error: expect.objectContaining({ message: 'busy' }) }]);
  });

  it('does not retry a request the provider will never accept', async () => {
    const { clock, jobs } = setup([bad]);
    const view = await jobs.submit(input);
    await clock.runAll();
    expect(await jobs.get(view.id)).toMatchObject({ status: 'failed', attempts: 1, dead_letter: false, error: { param: 'size' } });
    expect(await jobs.deadLetters()).toEqual([]);
  });

  it('cancels a running job (aborting its call) and a job waiting for its retry', async () => {
    const held = setup([], { hold: true });
    const a = await held.jobs.submit(input);
    await held.clock.advance(0);
    expect(held.signals).toHaveLength(1);
    expect(await held.jobs.cancel(a.id)).toMatchObject({ status: 'cancelled' });
    expect(held.signals[0]!.aborted).toBe(true);
    held.release();
    await held.clock.runAll();
    expect(await held.jobs.get(a.id)).toMatchObject({ status: 'cancelled', attempts: 1 });

    const retrying = setup([busy]);
    const b = await retrying.jobs.submit(input);
    await retrying.clock.advance(10);
    expect((await retrying.jobs.history(b.id)).at(-1)?.type).toBe('retried');
    await retrying.jobs.cancel(b.id);
    await retrying.clock.runAll();
    expect(await retrying.jobs.get(b.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect((await retrying.jobs.history(b.id)).at(-1)?.type).toBe('cancelled');
  });

  it('forgets finished jobs after resultTtl', async () => {
    const { clock, jobs } = setup([ok]);
    const view = await jobs.submit(input);
    await clock.runAll();
    await clock.advance(59_000);
    expect(await jobs.get(view.id)).toBeDefined();
    await clock.advance(2_000);
    expect(await jobs.get(view.id)).toBeUndefined();
  });

  it('on close, fails jobs still queued with a clear shutdown error instead of dropping them', async () => {
    const { clock, jobs } = setup([busy]);
    const view = await jobs.submit(input);
    await clock.advance(10); // now waiting for its retry
    await jobs.close(0);
    expect(await jobs.get(view.id)).toMatchObject({ status: 'failed', error: { code: 'shutdown' } });
    expect(jobs.ready()).toBe(false);
  });
});
