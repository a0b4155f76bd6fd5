import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_IN_FLIGHT, jobsOverload, type JobsOverloadRun } from './support/jobs-overload.ts';
import { haveRedisServer, PrivateRedis, requireRedisInCi } from './support/redis-server.ts';

requireRedisInCi();

// 10 production minutes of submissions take 3 s; the ~110 minutes of backlog a tier-1 account then owes, ~35 s.
const SCALE = 0.005;
const LOAD = { timeScale: SCALE, rate: 10, minutes: 10, maxWallMs: 120_000 };

const endedAt = (job: JobsOverloadRun['jobs'][number]) => job.story.at(-1)!.at;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What every run must show: each job succeeded, none dead-lettered, and they ran by priority, then in submission order. */
function expectAbsorbed(run: JobsOverloadRun): void {
  expect(run.jobs).toHaveLength(500);
  const statuses = run.jobs.map((j) => j.view.status);
  expect(statuses.filter((s) => s !== 'succeeded')).toEqual([]);
  expect(run.deadLetters).toEqual([]);
  for (const j of run.jobs) expect(j.story.at(-1)!.type).toBe('succeeded');
  // Priority: the high client's jobs (half the account's rate) wait less than most of the low client's do.
  const waits = (client: string) => run.jobs.filter((j) => j.client === client).map((j) => endedAt(j) - j.submittedAt);
  expect(Math.max(...waits('web'))).toBeLessThan(median(waits('batch')));
  // FIFO inside a priority: a low job ends fewer places from its place in line than there are jobs
  // in flight at once (jobs.concurrency), which finish in any order (in random order: ~150 places).
  // Its place in line is when the gateway accepted it: the test's submissions race each other.
  const batch = run.jobs.filter((j) => j.client === 'batch');
  const acceptedAt = (job: JobsOverloadRun['jobs'][number]) => job.story[0]!.at;
  const inLine = [...batch].sort((a, b) => acceptedAt(a) - acceptedAt(b));
  const rankByEnd = new Map([...batch].sort((a, b) => endedAt(a) - endedAt(b)).map((j, rank) => [j.id, rank]));
  const displacement = inLine.map((j, rank) => Math.abs(rankByEnd.get(j.id)! - rank));
  console.log(`places from its place in line: max ${Math.max(...displacement)}, median ${median(displacement)}`);
  expect(Math.max(...displacement)).toBeLessThan(JOBS_IN_FLIGHT);
}

/**
 * A tier-1 account sends ~9 requests in 2 minutes, fewer than the breaker's default 10: a
 * breaker that counts 3 makes the circuit open during the outage, so runs meet it. The
 * outage lasts at least 2 minutes and until the gateway has met it 6 times (3 to open the
 * circuit, 3 half-open probes), so a stalled gateway process cannot sleep through it.
 */
const OUTAGE = { atMinute: 2, minutes: 2, answers: 6, circuit: { minimumRequests: 3, window: 5 } };

function expectOutageAbsorbed(run: JobsOverloadRun): void {
  expectAbsorbed(run);
  expect(run.outageAnswers).toBeGreaterThan(0);
  // Runs caught in the outage, once the circuit had opened, waited for it without spending an attempt.
  const deferred = run.jobs.flatMap((j) => j.story.filter((e) => e.type === 'deferred'));
  expect(deferred.length).toBeGreaterThan(0);
  expect(run.jobs.every((j) => j.view.attempts <= 2)).toBe(true);
}

describe('async jobs absorb overload and outages (gateway process, mock tier 1)', () => {
  it('memory: 10× the account for 10 minutes, then nothing', { timeout: 150_000 }, async () => {
    const run = await jobsOverload(LOAD);
    expectAbsorbed(run);
    // Nothing was refused for good: the backlog drained at the account's rate.
    expect(run.jobs.every((j) => j.view.attempts <= 3)).toBe(true);
  });

  it('memory: the same through a 2-minute outage', { timeout: 150_000 }, async () => {
    const run = await jobsOverload({ ...LOAD, outage: OUTAGE });
    expectOutageAbsorbed(run);
  });

  describe.skipIf(!haveRedisServer())('on Redis (BullMQ)', () => {
    let redis: PrivateRedis;
    beforeAll(async () => {
      redis = await PrivateRedis.start();
    });
    afterAll(async () => {
      await redis.kill();
    });

    it('redis: 10× the account for 10 minutes, then nothing', { timeout: 150_000 }, async () => {
      expectAbsorbed(await jobsOverload({ ...LOAD, redisUrl: redis.url }));
    });

    it('redis: the same through a 2-minute outage', { timeout: 150_000 }, async () => {
      expectOutageAbsorbed(await jobsOverload({ ...LOAD, redisUrl: redis.url, outage: OUTAGE }));
    });
  });
});
