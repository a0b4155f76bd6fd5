import OpenAI, { APIError } from 'openai';
import { DEFAULT_MIX, MIXES } from '../../loadtests/mixes.ts';
import type { Clock } from '../core/clock.ts';
import { recordAnswer } from './image-iteration.ts';
import type { IterationFn } from './iteration.ts';
import type { Metrics } from './metrics.ts';

/** The SDK sends the `single` mix's one shape. */
const SINGLE_CLASS = MIXES[DEFAULT_MIX]!.classes[0]!.name;

/**
 * The "no limiter" strategy of `ratelab compare`: the official openai SDK straight at the
 * provider with its default retries (2, exponential backoff, retry-after honoured), the way
 * most apps call the images API. One iteration = one `images.generate` call, its retries
 * included, recorded with the same metrics as a call through the gateway.
 */
export function sdkIteration(metrics: Metrics, o: { baseURL: string; apiKey: string; model: string; clock: Clock; timeoutMs: number }): { fn: IterationFn; close: () => Promise<void> } {
  const client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, timeout: o.timeoutMs });
  const fn: IterationFn = async (ctx) => {
    const sent = o.clock.now();
    let status = 200;
    let text = '';
    try {
      await client.images.generate({ model: o.model, prompt: `ratelab compare ${ctx.vu}-${ctx.iteration}`, quality: 'low', output_format: 'webp' }, { signal: ctx.signal });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      status = error instanceof APIError ? (error.status ?? 0) : 0;
      text = error instanceof APIError && error.error ? JSON.stringify({ error: error.error }) : '';
    }
    const done = o.clock.now();
    recordAnswer(metrics, ctx, { status, text, headers: {}, sentAt: sent, firstByteAt: done, doneAt: done, bytesSent: 120, class: SINGLE_CLASS });
  };
  return { fn, close: async () => undefined };
}
