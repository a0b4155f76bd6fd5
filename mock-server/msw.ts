import { http, HttpResponse, type HttpHandler } from 'msw';
import type { ProfileInput } from './profiles/index.ts';
import { isMultipart } from '../src/openai/read-request.ts';
import { MockModel, type MockModelOptions } from './model/model.ts';

export interface MockOpenAIOptions extends Omit<MockModelOptions, 'profile'> {
  /** Where `/v1` lives, as the SDK sees it without `/v1`. Default `https://api.openai.com`. */
  baseUrl?: string;
  /** Serve an existing model (to share it with an HTTP server, say). */
  model?: MockModel;
}

export type MockOpenAIHandlers = HttpHandler[] & { model: MockModel };

/** Server-sent events as a web stream; a reader that cancels ends the model's stream (and frees its slot). */
function eventStream(events: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = events[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * msw handlers over the same model the HTTP server uses: `setupServer(...mockOpenAI('openai'))`
 * mocks OpenAI's image API in-process. The returned array carries the model (`.model`) for
 * stats, faults and the clock.
 */
export function mockOpenAI(profile: string | ProfileInput = 'openai', options: MockOpenAIOptions = {}): MockOpenAIHandlers {
  const model = options.model ?? new MockModel({ ...options, profile });
  const base = new URL(options.baseUrl ?? 'https://api.openai.com');
  const prefix = base.pathname.replace(/\/$/, '');
  const handler = http.all(`${base.origin}${prefix}/*`, async ({ request }) => {
    const url = new URL(request.url);
    // Uploads are parsed as they stream in; every other body is read whole first.
    const stream = isMultipart(request.headers.get('content-type') ?? undefined) && request.body ? (request.body as AsyncIterable<Uint8Array>) : undefined;
    const body = stream ? new Uint8Array() : new Uint8Array(await request.arrayBuffer());
    const response = await model.handle({
      method: request.method,
      path: url.pathname.slice(prefix.length),
      query: url.search.slice(1),
      headers: Object.fromEntries(request.headers),
      body,
      ...(stream ? { bodyStream: stream } : {}),
      bodyTooLarge: body.byteLength > model.profile.maxBodyBytes,
      loopback: true,
      signal: request.signal,
    });
    if (response.reset) return HttpResponse.error();
    const payload = response.stream ? eventStream(response.stream) : response.body;
    return new HttpResponse(payload, { status: response.status, headers: response.headers });
  });
  return Object.assign([handler], { model });
}
