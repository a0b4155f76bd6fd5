import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

/**
 * The limiter as another service embeds it: built to JavaScript (`npm run build:limiter`,
 * which `npm pack` runs), imported as `ratelab/limiter` through package.json's exports by a
 * consumer that has ratelab in its node_modules, under plain Node (no tsx) and plain tsc.
 */
let consumer: string;

beforeAll(async () => {
  await run(tsc, ['-p', join(root, 'tsconfig.lib.json')], { cwd: root });
  consumer = mkdtempSync(join(tmpdir(), 'ratelab-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(root, join(consumer, 'node_modules', 'ratelab'), 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['main.ts'] }),
  );
}, 60_000);

afterAll(() => rmSync(consumer, { recursive: true, force: true }));

const USE = `
import { createLimiter, isLimiterError } from 'ratelab/limiter';
const limiter = createLimiter({ concurrency: { mode: 'fixed', limit: 2 }, queue: { maxSize: 3 } });
let running = 0;
let most = 0;
const task = async () => {
  most = Math.max(most, ++running);
  await new Promise((r) => setTimeout(r, 5));
  running--;
  return 'ok';
};
const settled = await Promise.allSettled(Array.from({ length: 6 }, () => limiter.schedule(task, { priority: 'high' })));
let invalid = '';
try {
  createLimiter({ concurrency: { mode: 'fixed', limit: 0 } });
} catch (e) {
  invalid = e instanceof Error ? e.message : String(e);
}
const reasons = settled.map((s) => (s.status === 'fulfilled' ? s.value : isLimiterError(s.reason) ? s.reason.reason : 'other'));
console.log(JSON.stringify({ reasons, most, invalid }));
`;

/** A third party's store, written against the package's exports alone: it counts admissions and keeps budgets in a MemoryStore. */
const OWN_STORE = `
import { createLimiter, MemoryStore, type Admission, type AdmitRequest, type Cost, type HeaderSource, type LimiterState, type StoreFactory, type StoreSnapshot, type SyncLimiterStore } from 'ratelab/limiter';

class CountingStore implements SyncLimiterStore {
  readonly kind = 'counting';
  readonly synchronous = true;
  admits = 0;
  constructor(private readonly inner: MemoryStore) {}
  admit(req: AdmitRequest): Admission {
    this.admits++;
    return this.inner.admit(req);
  }
  release(lease: string, actual: Partial<Cost> | undefined, reserved: Cost, now: number): void {
    this.inner.release(lease, actual, reserved, now);
  }
  pause(untilMs: number): void {
    this.inner.pause(untilMs);
  }
  syncFromHeaders(headers: HeaderSource, now: number): void {
    this.inner.syncFromHeaders(headers, now);
  }
  snapshot(now: number): StoreSnapshot {
    return this.inner.snapshot(now);
  }
  close(): void {}
}

let store: CountingStore | undefined;
const factory: StoreFactory = (budgets, clock) => (store = new CountingStore(new MemoryStore(budgets, clock.now())));
const limiter = createLimiter({ budgets: { ipm: { limit: 100 } }, concurrency: { mode: 'fixed', limit: 4 } }, { store: factory });
const values = await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.schedule(async () => i, { cost: { model: 'gpt-image-1.5', quality: 'low', size: '1024x1024', n: 1 } })));
const state: LimiterState = limiter.state();
console.log(JSON.stringify({ values, admits: store!.admits, circuit: state.circuit, ipmLimit: state.store.limits.ipm, queued: state.queued }));
limiter.close();
`;

describe('ratelab/limiter as a package', () => {
  it('runs under plain Node from the built JavaScript', async () => {
    writeFileSync(join(consumer, 'main.mjs'), USE);
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: consumer, env: { PATH: process.env.PATH ?? '' } });
    const out = JSON.parse(stdout) as { reasons: string[]; most: number; invalid: string };
    // 2 start, 3 queue, the 6th finds the queue full.
    expect(out.reasons).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'queue_full']);
    expect(out.most).toBe(2);
    expect(out.invalid).toContain('Expected `concurrency.limit` to be');
  });

  it("ships declarations a consumer's tsc checks against: right use passes, wrong use fails", async () => {
    writeFileSync(join(consumer, 'main.ts'), USE);
    await expect(run(tsc, ['-p', '.'], { cwd: consumer })).resolves.toBeDefined();
    writeFileSync(join(consumer, 'main.ts'), USE.replace("priority: 'high'", "priority: 'urgent'"));
    const failed = await run(tsc, ['-p', '.'], { cwd: consumer }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(failed).toContain(`Type '"urgent"' is not assignable`);
  }, 60_000);

  it('takes a store of your own written against its exports: it type-checks, compiles and runs', async () => {
    writeFileSync(join(consumer, 'main.ts'), OWN_STORE);
    await run(tsc, ['-p', '.', '--noEmit', 'false', '--outDir', 'out'], { cwd: consumer });
    const { stdout } = await run(process.execPath, [join('out', 'main.js')], { cwd: consumer, env: { PATH: process.env.PATH ?? '' } });
    const out = JSON.parse(stdout) as { values: number[]; admits: number; circuit: string; ipmLimit: number; queued: number };
    expect(out.values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Every task passed through the store, and the limiter's state reads it back.
    expect(out.admits).toBeGreaterThanOrEqual(10);
    expect(out).toMatchObject({ circuit: 'closed', ipmLimit: 100, queued: 0 });
    // What is internal stays internal: the zod schema, the classifier and a constructor that skips validation are not exports.
    writeFileSync(join(consumer, 'main.ts'), "import { limiterConfigSchema, classify, priceOf } from 'ratelab/limiter';\nconsole.log(limiterConfigSchema, classify, priceOf);\n");
    const failed = await run(tsc, ['-p', '.'], { cwd: consumer }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    for (const name of ['limiterConfigSchema', 'classify', 'priceOf']) expect(failed).toMatch(new RegExp(`has no exported member (named )?'${name}'`));
  }, 60_000);
});
