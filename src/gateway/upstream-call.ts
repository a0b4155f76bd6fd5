import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { AttemptContext } from '../limiter/limiter.ts';
import type { UpstreamBody } from './request-input.ts';
import type { StreamRelay } from './stream-relay.ts';

/** Response headers worth passing back from the provider: ids, limits, retry hints. */
export const PASSED = /^(content-type|x-request-id|openai-|x-ratelimit-|retry-after)/;

/** The bytes behind each Response built here, so they are not copied a second time on the way out. */
const buffered = new WeakMap<Response, Buffer>();
const EMPTY = Buffer.alloc(0);

export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The answer was streamed to the client as it came (server-sent events): nothing is left to write. */
  streamed?: boolean;
}

function requestBody(body: UpstreamBody): BodyInit {
  if (body.bytes) return body.bytes as Uint8Array<ArrayBuffer>;
  // Each attempt reads the spooled upload afresh; nothing of it is held in memory.
  return Readable.toWeb(createReadStream(body.file!.path)) as ReadableStream<Uint8Array>;
}

/**
 * One attempt against the provider: send the already-validated body with the upstream key
 * to the request's endpoint. A streamed answer (stream: true and the provider said 200) is
 * relayed to the client as it arrives and its usage reported when its completed event
 * passes; any other answer is buffered and returned as a Response, so the limiter classifies
 * it (and may retry: nothing has reached the client yet).
 */
export function upstreamCall(upstream: { name: string; baseURL: string; key: string }, body: UpstreamBody, relay?: StreamRelay) {
  return async (ctx: AttemptContext): Promise<Response> => {
    // A relay that has started owns the client's answer: no second attempt may write to it.
    if (relay?.started) return relay.settled();
    if (relay) relay.firstAttemptAt ??= Date.now();
    const headers: Record<string, string> = { authorization: `Bearer ${upstream.key}`, 'content-type': body.contentType, 'x-stainless-retry-count': String(ctx.attempt - 1) };
    if (body.file) headers['content-length'] = String(body.file.size);
    const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: requestBody(body), signal: ctx.signal };
    if (body.file) init.duplex = 'half';
    const response = await fetch(`${upstream.baseURL}/images/${body.endpoint}`, init);
    if (relay && response.ok && /^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) return relay.pipe(response, ctx, upstream.name);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.ok) {
      const usage = readUsage(bytes);
      if (usage) ctx.reportUsage(usage);
    }
    const answer = new Response(bytes, { status: response.status, headers: response.headers });
    buffered.set(answer, bytes);
    return answer;
  };
}

function readUsage(bytes: Buffer): { input_tokens?: number; output_tokens?: number } | undefined {
  // The usage object sits at the end of the body; parse only that tail, not the images.
  const text = bytes.subarray(Math.max(0, bytes.length - 512)).toString('utf8');
  const match = /"usage":(\{.*\})\}\s*$/.exec(text);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as { input_tokens?: number; output_tokens?: number };
  } catch {
    return undefined;
  }
}

/** OpenAI's 401 echoes a masked key ("sk-proj-****abcd"): even a masked upstream key is not the client's to see. */
const KEY_LIKE = /\bsk-[A-Za-z0-9_*-]{3,}/g;

export function redactKeys(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const redacted = text.replace(KEY_LIKE, 'sk-[redacted]');
  return redacted === text ? body : Buffer.from(redacted);
}

export function passedHeaders(source: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  source.forEach((value, name) => {
    if (PASSED.test(name)) headers[name] = value;
  });
  return headers;
}

export async function toAnswer(response: Response): Promise<UpstreamAnswer> {
  const headers = passedHeaders(response.headers);
  const body = buffered.get(response) ?? (response.body === null ? EMPTY : Buffer.from(await response.arrayBuffer()));
  // Error bodies are small; successes carry images and never a key.
  return { status: response.status, headers, body: response.status >= 400 ? redactKeys(body) : body };
}
