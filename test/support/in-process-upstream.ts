import type { MockModel } from '../../mock-server/model/model.ts';
import type { AttemptContext } from '../../src/limiter/limiter.ts';

/** A limiter task that calls the mock model directly (no HTTP), for virtual-clock runs. */
export function inProcessTask(model: MockModel, key: string, body: Record<string, unknown> = { prompt: 'a lighthouse', quality: 'low' }) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return async (ctx: AttemptContext): Promise<Response> => {
    const r = await model.handle({
      method: 'POST',
      path: '/v1/images/generations',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-stainless-retry-count': String(ctx.attempt - 1) },
      body: bytes,
      loopback: true,
      signal: ctx.signal,
    });
    if (r.reset) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return new Response(r.status === 200 ? '{}' : r.body, { status: r.status, headers: r.headers });
  };
}
