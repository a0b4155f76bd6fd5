import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttpServer, type HttpTimeouts } from '../src/core/http-server.ts';
import { protocolErrorBody } from '../src/openai/errors.ts';
import { createLogger, type Logger } from '../src/core/logger.ts';
import { readBody } from '../src/core/http-body.ts';
import { isMultipart } from '../src/openai/read-request.ts';
import { listen } from '../src/core/http-listen.ts';
import type { Span } from '@opentelemetry/api';
import { startServerSpan, startTracing, type TracingConfig } from '../src/metrics/tracing.ts';
import { SPAN_ATTRS } from '../src/metrics/spans.ts';
import { MockModel, type MockModelOptions } from './model/model.ts';

export interface MockServerOptions extends MockModelOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1: the mock is a local stand-in, not a service to expose. */
  host?: string;
  /** Serve an existing model instead of building one from the options. */
  model?: MockModel;
  /** Default: headers within 10 s, the whole request within 30 s, idle keep-alive 5 s. */
  timeouts?: HttpTimeouts;
  /** Default: pino at LOG_LEVEL to stdout: one line per answered request, unexpected errors with their stack. */
  logger?: Logger;
  /**
   * OpenTelemetry: a SERVER span per images request, continuing the caller's `traceparent`
   * (so a load test through the gateway is one trace down to the mock), exported as
   * `ratelab-mock`. Off unless this or the OTEL_* environment names an endpoint.
   */
  otel?: TracingConfig;
}

export interface RunningMockServer {
  /** e.g. http://127.0.0.1:4010 */
  url: string;
  /** The SDK's `baseURL`: url + /v1 */
  baseURL: string;
  model: MockModel;
  server: Server;
  close(): Promise<void>;
}

const IMAGE_ROUTES = new Set(['/v1/images/generations', '/v1/images/edits']);
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * node:http over the model. It reads the body, calls `model.handle` and writes the answer;
 * it deliberately holds no logic of its own, so it answers exactly what msw does.
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<RunningMockServer> {
  const log = options.logger ?? createLogger({ name: 'mock' });
  const model = options.model ?? new MockModel({ ...options, logger: log });
  await model.ready();
  const maxBody = model.profile.maxBodyBytes;
  const tracing = await startTracing('ratelab-mock', options.otel);
  const tracer = tracing.enabled ? tracing.tracer : undefined;
  const server = createHttpServer(
    (req, res) => {
      const path = tracer ? (req.url ?? '/').split('?')[0]! : '';
      // Only the images routes: the provider's answer is what a trace follows; /v1/models and admin calls are not.
      const span = tracer && IMAGE_ROUTES.has(path) ? startServerSpan(tracer, req, res, path, { [SPAN_ATTRS.timeScale]: model.timeScale.factor }) : undefined;
      void serve(model, maxBody, req, res, log, span?.span);
    },
    protocolErrorBody,
    options.timeouts,
  );
  const url = await listen(server, options.port, options.host);
  return {
    url,
    baseURL: `${url}/v1`,
    model,
    server,
    close: async () => {
      model.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tracing.shutdown().catch(() => undefined);
    },
  };
}

async function serve(model: MockModel, maxBody: number, req: IncomingMessage, res: ServerResponse, log: Logger, span: Span | undefined): Promise<void> {
  const started = performance.now();
  let requestId: string | undefined;
  res.on('close', () => {
    const path = (req.url ?? '/').split('?')[0]!.slice(0, 200);
    if (path.startsWith('/v1/')) {
      log.info({ method: req.method, path, status: res.statusCode, latencyMs: Math.round(performance.now() - started), requestId, completed: res.writableFinished }, 'answered');
    }
  });
  // Most requests never look at their signal, so the AbortController is made on demand.
  let gone: AbortController | undefined;
  let closedEarly = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    closedEarly = true;
    gone?.abort();
  });
  // Uploads are parsed as they stream in; every other body is read whole first.
  const multipart = isMultipart(req.headers['content-type']);
  const body = multipart ? { bytes: EMPTY, tooLarge: false } : await readBody(req, maxBody);
  if (body === undefined) return; // the client aborted mid-body: there is no one to answer
  const queryAt = req.url!.indexOf('?');
  const response = await model.handle({
    get signal(): AbortSignal {
      if (!gone) {
        gone = new AbortController();
        if (closedEarly) gone.abort();
      }
      return gone.signal;
    },
    method: req.method ?? 'GET',
    path: queryAt < 0 ? req.url! : req.url!.slice(0, queryAt),
    query: queryAt < 0 ? '' : req.url!.slice(queryAt + 1),
    headers: req.headers as Record<string, string | undefined>,
    body: body.bytes,
    ...(multipart ? { bodyStream: req } : {}),
    bodyTooLarge: body.tooLarge,
    loopback: LOOPBACK.test(req.socket.remoteAddress ?? ''),
    ...(span ? { onOutcome: (reason: string) => span.setAttribute(SPAN_ATTRS.mockReason, reason) } : {}),
  });
  requestId = response.headers['x-request-id'];
  if (res.destroyed) return;
  if (response.reset) {
    req.socket.resetAndDestroy();
    return;
  }
  res.writeHead(response.status, response.headers);
  if (!response.stream) return void res.end(response.body);
  res.flushHeaders();
  try {
    for await (const event of response.stream) {
      if (res.destroyed) break;
      res.write(event);
    }
    res.end();
  } catch {
    // the client left mid-stream (the stream's sleeps abort on its signal): nothing to finish
    res.destroy();
  }
}

const EMPTY = Buffer.alloc(0);
