import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { trace, type Context } from '@opentelemetry/api';
import { request } from 'undici';
import { SPAN_ATTRS } from '../metrics/spans.ts';
import { injectContext } from '../metrics/tracing.ts';
import type { AttemptContext } from '../limiter/limiter.ts';
import type { ReadAnswer } from '../limiter/outcome.ts';
import type { UpstreamBody } from './request-input.ts';
import type { Redactor } from './redact.ts';
import type { AnswerUsage } from '../openai/stream-events.ts';
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

/** Response headers as a Headers object (undici gives a plain record, with arrays for repeats). */
function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/**
 * One attempt against the provider: send the already-validated body with the upstream key
 * to the request's endpoint. A streamed answer (stream: true and the provider said 200) is
 * relayed to the client as it arrives and its usage reported when its completed event
 * passes; any other answer is buffered and returned as a Response, so the limiter classifies
 * it (and may retry: nothing has reached the client yet). undici's `request` rather than
 * fetch: it streams a spooled upload from disk with backpressure (fetch over
 * `Readable.toWeb` read the whole file into memory on Node 20) and costs less per call.
 */
export function upstreamCall(upstream: { name: string; baseURL: string; key: string }, body: UpstreamBody, relay?: StreamRelay, requestContext?: Context) {
  return async (ctx: AttemptContext): Promise<Response> => {
    // A relay that has started owns the client's answer: no second attempt may write to it.
    if (relay?.started) return relay.settled();
    if (relay) relay.firstAttemptAt ??= Date.now();
    const headers: Record<string, string> = { authorization: `Bearer ${upstream.key}`, 'content-type': body.contentType, 'x-stainless-retry-count': String(ctx.attempt - 1) };
    const url = `${upstream.baseURL}/images/${body.endpoint}`;
    // The limiter's attempt span (when tracing): the provider continues this trace. An unsampled
    // request's context still goes on (flagged unsampled), so the provider does not start a trace of its own.
    injectContext(headers, ctx.traceContext ?? requestContext);
    const span = ctx.traceContext && trace.getSpan(ctx.traceContext);
    if (span?.isRecording()) {
      const at = new URL(url);
      span.setAttributes({ [SPAN_ATTRS.httpMethod]: 'POST', [SPAN_ATTRS.urlFull]: `${at.origin}${at.pathname}`, [SPAN_ATTRS.serverAddress]: at.hostname, [SPAN_ATTRS.serverPort]: Number(at.port || (at.protocol === 'https:' ? 443 : 80)) });
    }
    const length = body.file?.size ?? body.size;
    if (length !== undefined) headers['content-length'] = String(length);
    // Each attempt sends the upload afresh: its chunks, or the spooled file read as it goes.
    const payload = body.bytes ?? (body.chunks ? Readable.from(body.chunks, { objectMode: false }) : createReadStream(body.file!.path, { highWaterMark: 256 * 1024 }));
    const answer = await request(url, { method: 'POST', headers, body: payload, signal: ctx.signal });
    const responseHeaders = toHeaders(answer.headers);
    const ok = answer.statusCode >= 200 && answer.statusCode < 300;
    if (relay && ok && /^text\/event-stream/i.test(responseHeaders.get('content-type') ?? '')) {
      return relay.pipe({ status: answer.statusCode, headers: responseHeaders, body: answer.body }, ctx, upstream.name);
    }
    const bytes = Buffer.from(await answer.body.arrayBuffer());
    if (ok) {
      const usage = readUsage(bytes);
      if (usage) ctx.reportUsage(usage);
    }
    const response = new Response(bytes.length === 0 && [204, 304].includes(answer.statusCode) ? null : bytes, { status: answer.statusCode, headers: responseHeaders });
    buffered.set(response, bytes);
    return response;
  };
}

/** The `usage` of an image answer's JSON body, read from its tail. */
export function readUsage(bytes: Buffer): AnswerUsage | undefined {
  // The usage object sits at the end of the body; parse only that tail, not the images.
  const text = bytes.subarray(Math.max(0, bytes.length - 512)).toString('utf8');
  const match = /"usage":(\{.*\})\}\s*$/.exec(text);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as AnswerUsage;
  } catch {
    return undefined;
  }
}

export function passedHeaders(source: Headers | Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (source instanceof Headers) {
    source.forEach((value, name) => {
      if (PASSED.test(name)) headers[name] = value;
    });
  } else {
    for (const name in source) if (PASSED.test(name)) headers[name] = source[name]!;
  }
  return headers;
}

/** An answer a task read itself (the simulator's mock), as the client gets it: passed headers and the body, secrets removed. */
export function readAnswerToClient(answer: ReadAnswer<string | Buffer>, redactor: Redactor): UpstreamAnswer {
  const body = answer.body === undefined ? EMPTY : typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
  return { status: answer.status, headers: redactor.headers(passedHeaders(answer.headers)), body: redactor.buffer(body) };
}

/** The provider's answer as the client gets it: the headers worth passing, every secret removed from them and the body. */
export async function toAnswer(response: Response, redactor: Redactor): Promise<UpstreamAnswer> {
  const headers = redactor.headers(passedHeaders(response.headers));
  const body = buffered.get(response) ?? (response.body === null ? EMPTY : Buffer.from(await response.arrayBuffer()));
  return { status: response.status, headers, body: redactor.buffer(body) };
}
