import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/virtual-clock.ts';
import { gatewayConfigSchema } from '../config.ts';
import type { UpstreamAnswer } from '../upstream-call.ts';
import { MemoryJobs } from './memory-jobs.ts';
import type { JobRun } from './run-outcome.ts';
import type { JobEvent, JobInput } from './types.ts';

const config = { ...gatewayConfigSchema.parse({}).jobs, maxAttempts: 3, backoff: 1_000, resultTtl: 60_000 };
const input: JobInput = { body: '{}', image: { model: 'gpt-image-1', prompt: 'x' } as JobInput['image'], client: { name: 'web', priority: 'high' } };
const json = (status: number, body: unknown): UpstreamAnswer => ({ status, headers: {}, body: Buffer.from(JSON.stringify(body)) });
const ok = json(200, { created: 1, data: [{ b64_json: 'AA==' }] });
const busy = json(503, { error: { message: 'busy', type: 'server_error', param: null, code: null } });
const bad = json(400, { error: { message: 'bad', type: 'invalid_request_error', param: 'size', code: null } });
const refused = (code: string, retryAfterMs?: number): UpstreamAnswer => ({
  status: code === 'circuit_open' ? 503 : 429,
  headers: retryAfterMs === undefined ? {} : { 'retry-after-ms': String(retryAfterMs) },
  body: Buffer.from(JSON.stringify({ error: { message: `refused: ${code}`, type: 'ratelab_gateway_error', param: null, code } })),
});
const at = (events: JobEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.at - events[0]!.at);

function setup(answers: JobRun[], opts: { hold?: boolean; config?: Partial<typeof config> } = {}) {
  const clock = new VirtualClock();
  const signals: AbortSignal[] = [];
  const deadlines: number[] = [];
  let release: (() => void) | undefined;
  const jobs = new MemoryJobs(
    { ...config, ...opts.config },
    async (_input, signal, deadline) => {
      signals.push(signal);
      deadlines.push(deadline);
      if (opts.hold) await new Promise<void>((resolve) => (release = resolve));
      return answers.shift() ?? ok;
    },
    1,
    clock,
  );
  return { clock, jobs, signals, deadlines, release: () => release?.() };
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

  it('waits out gateway refusals for their retry-after without spending an attempt', async () => {
    const { clock, jobs, deadlines } = setup([refused('queue_full', 5_000), refused('circuit_open', 30_000), refused('deadline_unmeetable'), ok]);
    const view = await jobs.submit(input);
    expect(view.deadline_at).toBe(Math.floor((clock.now() + config.maxWait) / 1000));
    await clock.runAll();
    const events = await jobs.history(view.id);
    expect(events.map((e) => `${e.type}:${e.attempt ?? ''}`)).toEqual(['queued:', 'started:1', 'deferred:1', 'started:1', 'deferred:1', 'started:1', 'deferred:1', 'started:1', 'succeeded:1']);
    // 5 s, then 30 s (the circuit's), then the backoff (no retry-after given).
    expect(at(events, 'started')).toEqual([0, 5_000, 35_000, 36_000]);
    expect(events.find((e) => e.type === 'deferred')).toMatchObject({ status: 429, error: { code: 'queue_full' }, next_at: events[0]!.at + 5_000 });
    expect(await jobs.get(view.id)).toMatchObject({ status: 'succeeded', attempts: 1, dead_letter: false });
    expect(await jobs.get(view.id)).not.toHaveProperty('error');
    // Every run is given the job's own deadline, not a held connection's.
    expect(new Set(deadlines)).toEqual(new Set([events[0]!.at + config.maxWait]));
  });

  it('does not count provider failures during an outage (every circuit open) against the job', async () => {
    const outage = { ...busy, outageMs: 20_000 };
    const { clock, jobs } = setup([outage, outage, outage, outage, outage, busy, ok]);
    const view = await jobs.submit(input);
    await clock.runAll();
    const events = await jobs.history(view.id);
    expect(events.filter((e) => e.type === 'deferred')).toHaveLength(5);
    expect(at(events, 'started').slice(0, 6)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
    // The provider's own failure after the outage is the first that counts.
    expect(await jobs.get(view.id)).toMatchObject({ status: 'succeeded', attempts: 2, dead_letter: false });
  });

  it("waits at least a provider's retry-after after its failure", async () => {
    const limited: UpstreamAnswer = { ...json(429, { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }), headers: { 'retry-after': '20' } };
    const { clock, jobs } = setup([limited, ok]);
    const view = await jobs.submit(input);
    await clock.runAll();
    expect(at(await jobs.history(view.id), 'started')).toEqual([0, 20_000]);
    expect(await jobs.get(view.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('fails and dead-letters a job that cannot run within jobs.maxWait', async () => {
    const { clock, jobs } = setup([refused('circuit_open', 40_000), refused('circuit_open', 40_000)], { config: { maxWait: 60_000 } });
    const start = clock.now();
    const view = await jobs.submit(input);
    await clock.runAll();
    const done = await jobs.get(view.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 0, dead_letter: true, error: { code: 'job_deadline_exceeded' } });
    expect(done!.error!.message).toContain('refused: circuit_open');
    // Failed when the second wait would have ended past the deadline, not after waiting it out.
    expect(clock.now() - start).toBe(40_000);
    expect((await jobs.deadLetters()).map((d) => d.id)).toEqual([view.id]);
  });

  it('hands jobs to the limiter `concurrency` at a time, best priority first and FIFO inside one; a deferred job keeps its place', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const deferredOnce = new Set<string>();
    // A 500 ms wait is longer than lockDuration here: the job gives up its slot while it waits.
    const jobs = new MemoryJobs(
      { ...config, concurrency: 1, lockDuration: 100 },
      async (job) => {
        const name = job.body;
        order.push(name);
        if (name === 'low-1' && !deferredOnce.has(name)) {
          deferredOnce.add(name);
          return refused('queue_full', 500);
        }
        await clock.sleep(1_000);
        return ok;
      },
      1,
      clock,
    );
    const submit = (name: string, priority: JobInput['client']['priority']) => jobs.submit({ ...input, body: name, client: { name: 'web', priority } });
    await submit('low-1', 'low');
    await submit('low-2', 'low');
    await submit('high-1', 'high');
    await submit('normal-1', 'normal');
    await submit('low-3', 'low');
    await submit('high-2', 'high');
    await clock.runAll();
    // low-1 ran first (alone), was turned away, and came back ahead of the low jobs submitted after it.
    expect(order).toEqual(['low-1', 'low-2', 'high-1', 'high-2', 'normal-1', 'low-1', 'low-3']);
  });

  it('waits out a short refusal (up to lockDuration) holding its slot, so others do not take the slot only to be refused too', async () => {
    const answers = [refused('circuit_open', 500), ok, ok];
    const order: string[] = [];
    const clock = new VirtualClock();
    const jobs = new MemoryJobs(
      { ...config, concurrency: 1 },
      async (job) => {
        order.push(job.body);
        return answers.shift()!;
      },
      1,
      clock,
    );
    await jobs.submit({ ...input, body: 'a' });
    await jobs.submit({ ...input, body: 'b' });
    await clock.advance(100);
    expect(order).toEqual(['a']);
    await clock.runAll();
    expect(order).toEqual(['a', 'a', 'b']);
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
    // Its one run never came back: no attempt is counted.
    expect(await held.jobs.get(a.id)).toMatchObject({ status: 'cancelled', attempts: 0 });

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
