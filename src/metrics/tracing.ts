import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { SPAN_ATTRS } from './spans.ts';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** A config file's `otel:` entry; every field may also come from the standard `OTEL_*` variables. */
export interface TracingConfig {
  /** OTLP/HTTP base URL (`/v1/traces` is added), as OTEL_EXPORTER_OTLP_ENDPOINT. Setting it turns tracing on. */
  endpoint?: string | undefined;
  /** Share of new traces kept, 0–1 (a sampled parent is always followed). Default: OTEL_TRACES_SAMPLER(_ARG), else 1. */
  sampleRatio?: number | undefined;
  /** Default: OTEL_SERVICE_NAME, else the part's own (`ratelab-gateway`, `ratelab-mock`). */
  serviceName?: string | undefined;
}

/** One part's tracer, and how to flush and stop it; `enabled: false` is OpenTelemetry's no-op tracer. */
export interface Tracing {
  enabled: boolean;
  tracer: Tracer;
  /** Exports what is buffered now. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops; safe to call twice. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, tracer: trace.getTracer('ratelab-off'), flush: async () => {}, shutdown: async () => {} };

/**
 * W3C trace context, read and written by ratelab's own propagator rather than the API's global
 * one, and every context passed by hand (a request's span to the limiter, an attempt's to the
 * upstream call) rather than through a context manager: Node 20's AsyncLocalStorage puts a
 * hook on every promise, which cost the gateway a fifth of its CPU per request whether a
 * request was sampled or not (bench/RESULTS.md, gateway-tracing). Nothing global is set, so an
 * application that embeds the limiter keeps its own OpenTelemetry set-up.
 */
const W3C = new W3CTraceContextPropagator();

type Env = Readonly<Record<string, string | undefined>>;

/** Whether tracing is on: a config endpoint, or an OTLP endpoint in the environment, unless the SDK is disabled or the exporter is `none`. */
export function tracingWanted(config: TracingConfig | undefined, env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(config?.endpoint || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/** The exporter the environment asks for (http/protobuf unless OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says http/json). */
async function exporterFor(config: TracingConfig | undefined, env: Env): Promise<SpanExporter> {
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[variable] ?? 'http/protobuf';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new RangeError(`Expected \`${variable}\` to be one of ${PROTOCOLS.join(', ')}, got \`${protocol}\` (grpc is not bundled: point it at a collector's OTLP/HTTP port, 4318)`);
  }
  // A config endpoint is a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is; without one the exporter reads the environment itself.
  const url = config?.endpoint ? `${config.endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
  const options = url ? { url } : {};
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(options);
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(options);
}

/**
 * Starts one part's tracing with the official SDK: a batch span processor (OTEL_BSP_*) and an
 * OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_*), the service named by OTEL_SERVICE_NAME or the
 * part, OTEL_RESOURCE_ATTRIBUTES added, and the sampler OTEL_TRACES_SAMPLER(_ARG) names unless
 * `sampleRatio` is given (then parent-based, ratio for new traces). Off, it is the API's no-op
 * tracer: no span is recorded and nothing is loaded.
 */
export async function startTracing(part: string, config: TracingConfig | undefined, env: Env = process.env, exporter?: SpanExporter): Promise<Tracing> {
  if (!exporter && !tracingWanted(config, env)) return OFF;
  if (config?.sampleRatio !== undefined && !(config.sampleRatio >= 0 && config.sampleRatio <= 1)) {
    throw new RangeError(`Expected \`otel.sampleRatio\` to be a number from 0 to 1, got \`${String(config.sampleRatio)}\` (${typeof config.sampleRatio})`);
  }
  const detected = detectResources({ detectors: [envDetector] });
  // The part's name, then what OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say, then the config's name over both.
  let resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: part }).merge(detected);
  if (config?.serviceName) resource = resource.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }));
  const provider = new BasicTracerProvider({
    resource,
    ...(config?.sampleRatio !== undefined ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }) } : {}),
    spanProcessors: [new BatchSpanProcessor(exporter ?? (await exporterFor(config, env)))],
  });
  let stopped: Promise<void> | undefined;
  return { enabled: true, tracer: provider.getTracer(part), flush: () => provider.forceFlush(), shutdown: () => (stopped ??= provider.shutdown()) };
}

/** A sampled span's trace id (for an exemplar or a report), else undefined. */
export function sampledTraceId(span: Span | undefined): string | undefined {
  const c = span?.spanContext();
  return c && (c.traceFlags & 1) === 1 && span!.isRecording() ? c.traceId : undefined;
}

/** The context a request's headers carry (W3C `traceparent`/`tracestate`), over an empty one: a request starts its own trace or continues its caller's, never the server's. */
export function extractContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return W3C.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** Writes `ctx`'s span into outgoing headers as `traceparent`/`tracestate` (nothing without one). */
export function injectContext(headers: Record<string, string>, ctx: Context | undefined): Record<string, string> {
  if (ctx) W3C.inject(ctx, headers, defaultTextMapSetter);
  return headers;
}

/** A request's SERVER span and the context its work runs in. */
export interface ServerSpan {
  span: Span;
  ctx: Context;
  /** Its trace id when sampled: the exemplar a latency observation carries. */
  traceId: string | undefined;
}

/**
 * A SERVER span for one HTTP request, named `{method} {route}` (OpenTelemetry: the route
 * template, never a raw path with ids in it), continuing the caller's `traceparent`. It ends
 * when the answer does, with the status and, for a server error or a client that left before
 * any answer, an error status (a 4xx is the client's error, not the server's).
 */
export function startServerSpan(tracer: Tracer, req: IncomingMessage, res: ServerResponse, route: string, attributes: Attributes = {}): ServerSpan {
  const parent = extractContext(req.headers);
  const path = (req.url ?? '/').split('?')[0]!.slice(0, 200);
  const span = tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER, attributes: { [SPAN_ATTRS.httpMethod]: req.method ?? 'GET', [SPAN_ATTRS.httpRoute]: route, [SPAN_ATTRS.urlPath]: path, ...attributes } }, parent);
  // Not sampled: nothing will be recorded or exported, so nothing waits for the answer's end (most requests, at a low ratio).
  if (!span.isRecording()) return { span, ctx: trace.setSpan(parent, span), traceId: undefined };
  res.on('close', () => {
    // A client that left before any answer got none: res.statusCode would still read its default 200.
    const status = res.headersSent ? res.statusCode : 0;
    if (status) span.setAttribute(SPAN_ATTRS.httpStatus, status);
    if (status >= 500 || status === 0) {
      span.setAttribute(SPAN_ATTRS.errorType, status ? String(status) : 'client_closed');
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    // After the other close listeners (which add what the answer came to), whatever order they were added in.
    queueMicrotask(() => span.end());
  });
  return { span, ctx: trace.setSpan(parent, span), traceId: sampledTraceId(span) };
}
