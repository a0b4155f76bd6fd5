import { http, HttpResponse, type HttpHandler } from 'msw';
import type { ProfileInput } from './profiles/index.ts';
import { MockModel, type MockModelOptions } from './model/model.ts';

export interface MockOpenAIOptions extends Omit<MockModelOptions, 'profile'> {
  /** Where `/v1` lives, as the SDK sees it without `/v1`. Default `https://api.openai.com`. */
  baseUrl?: string;
  /** Serve an existing model (to share it with an HTTP server, say). */
  model?: MockModel;
}

export type MockOpenAIHandlers = HttpHandler[] & { model: MockModel };

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
    const body = new Uint8Array(await request.arrayBuffer());
    const response = await model.handle({
      method: request.method,
      path: url.pathname.slice(prefix.length),
      query: url.search.slice(1),
      headers: Object.fromEntries(request.headers),
      body,
      bodyTooLarge: body.byteLength > model.profile.maxBodyBytes,
      loopback: true,
      signal: request.signal,
    });
    if (response.reset) return HttpResponse.error();
    return new HttpResponse(response.body, { status: response.status, headers: response.headers });
  });
  return Object.assign([handler], { model });
}
