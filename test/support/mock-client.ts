import type { VirtualClock } from '../../src/core/virtual-clock.ts';
import type { MockModel } from '../../mock-server/model/model.ts';
import type { MockResponse } from '../../mock-server/model/types.ts';

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  raw?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the model directly, as an adapter would, with a JSON body by default. */
export function call(model: MockModel, opts: CallOptions = {}): Promise<MockResponse> {
  const key = opts.key === undefined ? 'sk-tier1-test' : opts.key;
  const raw = opts.raw ?? (opts.body === undefined ? '' : JSON.stringify(opts.body));
  return model.handle({
    method: opts.method ?? 'POST',
    path: opts.path ?? '/v1/images/generations',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...opts.headers,
    },
    body: new TextEncoder().encode(raw),
    loopback: true,
    signal: opts.signal,
  });
}

export const generate = (model: MockModel, body: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<MockResponse> =>
  call(model, { ...opts, body: { prompt: 'a lighthouse at dawn', ...body } });

export function errorOf(response: MockResponse): { message: string; type: string; param: string | null; code: string | null } {
  return (JSON.parse(response.body) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

/**
 * Runs a virtual clock until `promise` settles, one timer at a time, and fails fast (rather
 * than hanging the test) if it is still pending when no timer is left.
 */
export async function settle<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (;;) {
    await clock.advance(0);
    if (done) return promise;
    const next = clock.nextTimerAt();
    if (next === undefined) throw new Error('still pending with no timer left on the virtual clock');
    await clock.advanceTo(next);
  }
}
