import type { ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import { createParser } from 'eventsource-parser';
import { SPAN_EVENTS } from '../metrics/spans.ts';
import type { AttemptContext } from '../limiter/limiter.ts';
import { IMAGE_EVENT_TYPE, type AnswerUsage } from '../openai/stream-events.ts';
import type { Redactor } from './redact.ts';
import { passedHeaders } from './upstream-call.ts';

/** What the limiter is told a relayed stream came to (the client already has the answer itself). */
export const STREAMED_STATUS = 200;
const BROKEN_STATUS = 499;

/**
 * Relays one streamed image answer (server-sent events) from the provider to the client as
 * it arrives, so the client has its first partial image before the provider finishes. The
 * limiter's attempt — and so its concurrency slot — lasts until the stream ends; the usage
 * of the completed event reconciles the token reservation; a client that leaves aborts the
 * upstream call through the attempt's signal.
 */
export class StreamRelay {
  started = false;
  /** When the first attempt began: the request's time in the gateway's queue ends there. */
  firstAttemptAt: number | undefined;
  /** When the first image event (partial or final) was relayed, and the completed event's usage: for the trace. */
  firstImageAt: number | undefined;
  usage: AnswerUsage | undefined;
  /** The headers the client got. */
  sentHeaders: Record<string, string> = {};
  private outcome: Response | undefined;

  constructor(
    private readonly res: ServerResponse,
    /** When the gateway had read the request: its queue time runs from here to the first attempt. */
    private readonly arrivedAt: number,
    private readonly redactor: Redactor,
  ) {}

  /** The outcome of the stream this relay carried, for an attempt made after it started. */
  settled(): Response {
    return this.outcome ?? new Response(null, { status: BROKEN_STATUS });
  }

  async pipe(response: { status: number; headers: Headers; body: AsyncIterable<Uint8Array> }, ctx: AttemptContext, upstream: string): Promise<Response> {
    this.started = true;
    const { res } = this;
    const timing = {
      'x-ratelab-upstream': upstream,
      'x-ratelab-queue-ms': String(Math.max(0, Math.round((this.firstAttemptAt ?? Date.now()) - this.arrivedAt))),
      'x-ratelab-attempts': String(ctx.attempt),
      'x-ratelab-upstream-status': String(response.status),
    };
    this.sentHeaders = { ...this.redactor.headers(passedHeaders(response.headers)), 'cache-control': 'no-cache', ...timing };
    res.writeHead(response.status, this.sentHeaders);
    res.flushHeaders();
    const parser = createParser({
      onEvent: (event) => {
        if (this.firstImageAt === undefined && IMAGE_EVENT_TYPE.test(event.event ?? '')) {
          this.firstImageAt = Date.now();
          // On the attempt's span: the first image the client could show.
          (ctx.traceContext && trace.getSpan(ctx.traceContext))?.addEvent(SPAN_EVENTS.firstImage, { 'ratelab.event': event.event ?? '' }, this.firstImageAt);
        }
        if (!event.event?.endsWith('.completed')) return;
        try {
          const usage = (JSON.parse(event.data) as { usage?: AnswerUsage }).usage;
          this.usage = usage;
          if (usage) ctx.reportUsage(usage);
        } catch {
          // an unreadable completed event: the reservation stands as estimated
        }
      },
    });
    const decoder = new TextDecoder();
    // Event by event, every secret removed (an upstream that echoes its key must not leak it).
    const events = this.redactor.events();
    try {
      for await (const chunk of response.body) {
        if (res.destroyed) break;
        const ready = events.push(chunk);
        if (ready.length > 0) res.write(ready);
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
      res.end(events.end());
      this.outcome = new Response(null, { status: STREAMED_STATUS });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      // The provider's stream broke after the client had part of it: end the client's stream
      // with an error event, and do not retry (a second answer cannot follow the first).
      if (!res.destroyed) {
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { message: 'The provider stream ended early.', type: 'ratelab_gateway_error', code: 'upstream_stream_broken', param: null } })}\n\n`);
      }
      this.outcome = new Response(null, { status: BROKEN_STATUS });
    }
    return this.outcome;
  }
}
