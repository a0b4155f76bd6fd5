import type { VirtualClock } from '../../core/virtual-clock.ts';
import type { AttemptContext } from '../limiter.ts';

/** A scripted upstream on the virtual clock: each call takes `latencyMs`, then answers what `respond` says. */
export function fakeUpstream(clock: VirtualClock, respond: (call: number, ctx: AttemptContext) => Response | Error, latencyMs = 1000) {
  const calls: { at: number; attempt: number }[] = [];
  const task = async (ctx: AttemptContext): Promise<Response> => {
    const call = calls.length;
    calls.push({ at: clock.now(), attempt: ctx.attempt });
    await clock.sleep(latencyMs, ctx.signal);
    const answer = respond(call, ctx);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { task, calls };
}

export const ok = (body: object = {}, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });

export const status = (code: number, error: object | null = null, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(error ? { error } : {}), { status: code, headers: { 'content-type': 'application/json', ...headers } });

export const limit429 = (retryAfterMs?: number): Response =>
  status(429, { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' }, retryAfterMs === undefined ? {} : { 'retry-after-ms': String(retryAfterMs) });
