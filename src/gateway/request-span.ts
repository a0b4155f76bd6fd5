import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { GEN_AI_IMAGE, SPAN_ATTRS, SPAN_EVENTS, SPAN_NAMES } from '../metrics/spans.ts';
import { extractContext, startServerSpan, type ServerSpan } from '../metrics/tracing.ts';
import type { JobInput, JobRunOf } from './jobs/types.ts';
import type { ImageRequest } from '../openai/request.ts';

/** The routes a server span is named by (OpenTelemetry: `{method} {http.route}`, never a raw path with ids in it). */
function routeOf(path: string): string | undefined {
  if (path === '/v1/images/generations' || path === '/v1/images/edits' || path === '/v1/models') return path;
  if (path.startsWith('/v1/models/')) return '/v1/models/{model}';
  if (path === '/v1/jobs/images') return path;
  if (path.startsWith('/v1/jobs/')) return path.endsWith('/events') ? '/v1/jobs/{id}/events' : '/v1/jobs/{id}';
  return undefined;
}

/**
 * The SERVER span of a `/v1/` request (`startServerSpan`); undefined for health, readiness
 * and metrics (a scrape every 15 s is not traffic) and when tracing is off.
 */
export function requestSpan(tracer: Tracer | undefined, req: IncomingMessage, res: ServerResponse, timeScale: number): ServerSpan | undefined {
  if (!tracer) return undefined;
  const route = routeOf((req.url ?? '/').split('?')[0]!);
  return route ? startServerSpan(tracer, req, res, route, { [SPAN_ATTRS.timeScale]: timeScale }) : undefined;
}

/** What the request asked, in gen-ai and ratelab terms: model, n, stream, quality, size, input images (never the prompt or an image). */
export function describeImage(rs: ServerSpan | undefined, client: string, image: ImageRequest): void {
  if (!rs?.span.isRecording()) return;
  rs.span.setAttributes({
    ...GEN_AI_IMAGE,
    [SPAN_ATTRS.client]: client,
    [SPAN_ATTRS.genAiModel]: image.model,
    [SPAN_ATTRS.genAiChoiceCount]: image.n,
    [SPAN_ATTRS.genAiStream]: image.stream,
    [SPAN_ATTRS.quality]: image.quality,
    [SPAN_ATTRS.size]: image.size,
    [SPAN_ATTRS.inputImages]: image.inputImages.length,
  });
}

/** What came back: tokens used and, for a stream, when its first image reached the client (an event, and seconds as gen-ai's time to first chunk). */
export function describeAnswer(rs: ServerSpan | undefined, arrivedAt: number, usage: { input_tokens?: number; output_tokens?: number } | undefined, firstImageAt: number | undefined): void {
  if (!rs?.span.isRecording()) return;
  if (usage?.input_tokens !== undefined) rs.span.setAttribute(SPAN_ATTRS.genAiInputTokens, usage.input_tokens);
  if (usage?.output_tokens !== undefined) rs.span.setAttribute(SPAN_ATTRS.genAiOutputTokens, usage.output_tokens);
  if (firstImageAt !== undefined) {
    rs.span.addEvent(SPAN_EVENTS.firstImage, {}, firstImageAt);
    rs.span.setAttribute(SPAN_ATTRS.genAiTimeToFirstChunk, Math.max(0, firstImageAt - arrivedAt) / 1000);
  }
}

/**
 * One run of an async job as a CONSUMER span in the trace of the request that submitted it
 * (the job carries its `traceparent`), so every run — retried, deferred, or picked up by
 * another replica — is found under that request; the limiter's spans are the run's children.
 * A job submitted untraced starts its own trace at each run, linked to nothing.
 */
export async function inJobRunSpan<T extends { status: number }>(tracer: Tracer | undefined, input: JobInput, run: JobRunOf, fn: (ctx: Context | undefined) => Promise<T>): Promise<T> {
  if (!tracer) return fn(undefined);
  const parent = input.trace ? extractContext(input.trace) : ROOT_CONTEXT;
  const submitted = trace.getSpanContext(parent);
  const span: Span = tracer.startSpan(
    SPAN_NAMES.jobRun,
    { kind: SpanKind.CONSUMER, attributes: { ...GEN_AI_IMAGE, [SPAN_ATTRS.jobId]: run.id, [SPAN_ATTRS.jobRun]: run.attempt, [SPAN_ATTRS.client]: input.client.name, [SPAN_ATTRS.genAiModel]: input.image.model }, ...(submitted ? { links: [{ context: submitted }] } : {}) },
    parent,
  );
  try {
    const answer = await fn(trace.setSpan(parent, span));
    span.setAttribute(SPAN_ATTRS.httpStatus, answer.status);
    if (answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
