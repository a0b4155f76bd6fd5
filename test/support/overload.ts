import { createLimiter, type Execution } from '../../src/limiter/limiter.ts';
import { LimiterError } from '../../src/limiter/errors.ts';

export interface OverloadRun {
  offered: number;
  upstream: number;
  upstream429: number;
  succeeded: number;
  shed: number;
  failed: number;
  ended: number;
}

/**
 * Offers `rate` images/s to `baseURL` for `seconds`, open-model (arrivals do not wait for
 * answers), either straight at the provider or through a limiter, and counts what happened.
 */
export async function overload(opts: {
  baseURL: string;
  key: string;
  rate: number;
  seconds: number;
  timeScale: number;
  limiter?: Parameters<typeof createLimiter>[0];
}): Promise<OverloadRun> {
  const counts = { upstream: 0, upstream429: 0 };
  const body = JSON.stringify({ prompt: 'a lighthouse at dawn', quality: 'low' });
  const call = async (signal?: AbortSignal): Promise<Response> => {
    counts.upstream++;
    const r = await fetch(`${opts.baseURL}/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' },
      body,
      signal,
    });
    if (r.status === 429) counts.upstream429++;
    await r.arrayBuffer();
    return r;
  };
  const limiter = opts.limiter ? createLimiter(opts.limiter, { timeScale: opts.timeScale }) : undefined;
  const runs: Promise<Execution<Response> | Response>[] = [];
  const total = Math.round(opts.rate * opts.seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(limiter ? limiter.execute((ctx) => call(ctx.signal), { cost: { prompt: 'a lighthouse at dawn', quality: 'low' } }) : call());
  }
  const results = await Promise.all(runs);
  let succeeded = 0;
  let shed = 0;
  let failed = 0;
  for (const r of results) {
    if (r instanceof Response) {
      if (r.status === 200) succeeded++;
      else failed++;
    } else if (r.error instanceof LimiterError) shed++;
    else if (r.ok && (r.value as Response).status === 200) succeeded++;
    else failed++;
  }
  return { offered: total, ...counts, succeeded, shed, failed, ended: succeeded + shed + failed };
}
