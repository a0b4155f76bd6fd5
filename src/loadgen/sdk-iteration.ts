import OpenAI, { APIError, toFile } from 'openai';
import type { ImageEditParamsNonStreaming, ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { classFields, DEFAULT_MIX, inputImagePng, MIXES, pickClass, type RequestClass, type RequestMix } from '../../loadtests/mixes.ts';
import type { Clock } from '../core/clock.ts';
import { IMAGE_EVENT_TYPE } from '../openai/stream-events.ts';
import { recordAnswer } from './image-iteration.ts';
import type { IterationFn } from './iteration.ts';
import type { Metrics } from './metrics.ts';

export interface SdkIterationOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  clock: Clock;
  timeoutMs: number;
  /** What the iterations send; default the `single` mix. */
  mix?: RequestMix;
}

/** An SDK stream's events: when the first image (a partial, or the final one) came. */
async function firstImageOf(stream: AsyncIterable<{ type: string }>, clock: Clock): Promise<number | undefined> {
  let at: number | undefined;
  for await (const event of stream) if (at === undefined && IMAGE_EVENT_TYPE.test(event.type)) at = clock.now();
  return at;
}

/**
 * The "no limiter" strategy of `ratelab compare`: the official openai SDK straight at the
 * provider with its default retries (2, exponential backoff, retry-after honoured), the way
 * most apps call the images API. One iteration = one `images.generate` (or `images.edit`,
 * with the class's references as files) call, its retries included, a stream read to its
 * last event; recorded with the same metrics as a call through the gateway.
 */
export function sdkIteration(metrics: Metrics, o: SdkIterationOptions): { fn: IterationFn; close: () => Promise<void> } {
  const client = new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, timeout: o.timeoutMs });
  const mix = o.mix ?? MIXES[DEFAULT_MIX]!;
  const call = async (c: RequestClass, fields: Record<string, unknown>, signal: AbortSignal): Promise<number | undefined> => {
    const stream = c.stream === true;
    if (c.endpoint === 'edits') {
      const png = inputImagePng(c.inputImages!.width, c.inputImages!.height);
      const image = await Promise.all(Array.from({ length: c.inputImages!.count }, (_, i) => toFile(png, `reference-${i + 1}.png`, { type: 'image/png' })));
      const params = { ...fields, image } as unknown as ImageEditParamsNonStreaming;
      if (stream) return firstImageOf(await client.images.edit({ ...params, stream: true }, { signal }), o.clock);
      await client.images.edit(params, { signal });
      return undefined;
    }
    const params = fields as unknown as ImageGenerateParamsNonStreaming;
    if (stream) return firstImageOf(await client.images.generate({ ...params, stream: true }, { signal }), o.clock);
    await client.images.generate(params, { signal });
    return undefined;
  };
  const fn: IterationFn = async (ctx) => {
    const c = pickClass(mix, ctx.vu, ctx.iteration, ctx.iterationInTest);
    const fields = { ...classFields(c, ctx.vu, ctx.iteration, o.model), prompt: `ratelab compare ${ctx.vu}-${ctx.iteration}` };
    const sent = o.clock.now();
    let status = 200;
    let text = '';
    let firstImageAt: number | undefined;
    try {
      firstImageAt = await call(c, fields, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      status = error instanceof APIError ? (error.status ?? 0) : 0;
      text = error instanceof APIError && error.error ? JSON.stringify({ error: error.error }) : '';
    }
    const done = o.clock.now();
    recordAnswer(metrics, ctx, { status, text, headers: {}, sentAt: sent, firstByteAt: done, doneAt: done, bytesSent: 120, class: c.name, ...(firstImageAt !== undefined ? { firstImageAt } : {}) });
  };
  return { fn, close: async () => undefined };
}
