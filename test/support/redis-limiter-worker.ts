/**
 * One replica for the Redis tests: a limiter on a RedisStore in front of the HTTP mock,
 * offering open-model load; prints one JSON line with what it saw.
 * argv: JSON { redisUrl, baseURL, key, rate, seconds, timeScale, latencyHoldMs?, concurrency? }
 */
import { createLimiter } from '../../src/limiter/limiter.ts';
import { RedisStore } from '../../src/limiter/redis-store.ts';
import { parseLimiterConfig } from '../../src/limiter/config.ts';
import { LimiterError } from '../../src/limiter/errors.ts';

const args = JSON.parse(process.argv[2]!) as {
  redisUrl: string;
  baseURL: string;
  key: string;
  rate: number;
  seconds: number;
  timeScale: number;
  ipm: number;
  concurrency?: number;
  leaseTtlMs?: number;
};
const config = parseLimiterConfig({
  budgets: { ipm: { limit: args.ipm } },
  concurrency: args.concurrency ? { mode: 'fixed', limit: args.concurrency } : { mode: 'fixed', limit: 64 },
  queue: { maxWait: '30s' },
});
let store!: RedisStore;
const limiter = createLimiter(config, {
  timeScale: args.timeScale,
  store: (budgets) => (store = new RedisStore({ redis: args.redisUrl, budgets, name: 'shared-account', leaseTtlMs: args.leaseTtlMs ?? 2000, heartbeatMs: 200 })),
});
await store.ready();

const starts: number[] = [];
let upstream429 = 0;
let fellBack = false;
const watch = setInterval(() => (fellBack ||= store.usingFallback), 20);
const body = JSON.stringify({ prompt: 'shared', quality: 'low' });
const runs: Promise<unknown>[] = [];
const total = Math.round(args.rate * args.seconds);
const t0 = performance.now();
for (let i = 0; i < total; i++) {
  const wait = t0 + (i * 1000) / args.rate - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  runs.push(
    limiter.execute(
      async (ctx) => {
        starts.push(performance.timeOrigin + performance.now());
        const r = await fetch(`${args.baseURL}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${args.key}`, 'content-type': 'application/json' }, body, signal: ctx.signal });
        if (r.status === 429) upstream429++;
        await r.arrayBuffer();
        return r;
      },
      { cost: { prompt: 'shared', quality: 'low' } },
    ),
  );
}
const results = (await Promise.all(runs)) as { ok: boolean; error?: unknown; value?: Response }[];
clearInterval(watch);
const summary = {
  offered: total,
  ended: results.length,
  ok: results.filter((r) => r.ok && r.value?.status === 200).length,
  shed: results.filter((r) => r.error instanceof LimiterError).length,
  upstream: starts.length,
  upstream429,
  fellBack,
  fallbackAtEnd: store.usingFallback,
  starts,
};
await store.close();
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
