import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { validateImageRequest } from '../core/images-request.ts';
import { RequestError } from '../core/openai-errors.ts';
import { LimiterError } from '../limiter/errors.ts';
import { createLimiter, type Limiter } from '../limiter/limiter.ts';
import type { LimiterConfigInput } from '../limiter/config.ts';
import { Clients, type GatewayClient } from './clients.ts';
import { readBody } from '../core/http-body.ts';
import { listen } from '../core/http-listen.ts';
import { sendError, sendJson } from './http-io.ts';
import { GATEWAY_ERROR_TYPE, refusal } from './refusals.ts';
import { toAnswer, upstreamCall, type UpstreamAnswer } from './upstream-call.ts';
import { ResultCache } from './result-cache.ts';
import { realClock } from '../core/clock.ts';
import { GATEWAY_METRICS } from '../metrics/catalogue.ts';
import { counter } from '../metrics/register.ts';
import type { ImageRequest } from '../core/images-request.ts';
import type { OpenAIErrorBody } from '../core/openai-errors.ts';

export interface GatewayOptions {
  /** The provider's base URL in the SDK's sense, e.g. http://127.0.0.1:4010/v1. */
  upstream: string;
  /** The provider key; it never leaves the process (not in logs, metrics, errors or answers). */
  upstreamKey: string;
  limiter?: LimiterConfigInput;
  timeScale?: number;
  clients?: ConstructorParameters<typeof Clients>[0];
  /** Models the gateway accepts before asking the provider. */
  models?: string[];
  maxBodyBytes?: number;
  registry?: Registry;
  /**
   * Result cache TTL in clock ms; 0 (default) = off. Off by default because a cache that
   * answers repeated prompts would make a load test report cache hits as capacity.
   */
  cacheTtlMs?: number;
}

export interface RunningGateway {
  url: string;
  baseURL: string;
  limiter: Limiter;
  clients: Clients;
  registry: Registry;
  server: Server;
  /**
   * Graceful: stop accepting, answer every queued request with 503 `shutdown`, let running
   * ones finish for up to `graceMs` (default 30 s), then cut what is left.
   */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_MODELS = ['gpt-image-1', 'gpt-image-1.5', 'gpt-image-2'];

type Answer = UpstreamAnswer & { timing: Record<string, string> };

function errorAnswer(status: number, error: OpenAIErrorBody, headers: Record<string, string>, timing: Record<string, string>): Answer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify({ error })), timing };
}

/**
 * An OpenAI-compatible service in front of the provider: the limiter decides when each
 * request goes upstream, the provider's answers pass through, and the gateway's own
 * refusals say so in OpenAI's error shape. Response headers tell where time went.
 */
export async function startGateway(options: GatewayOptions & { port?: number; host?: string }): Promise<RunningGateway> {
  const registry = options.registry ?? new Registry();
  const limiter = createLimiter(options.limiter ?? {}, { timeScale: options.timeScale ?? 1, registry, name: 'default' });
  const clients = new Clients(options.clients);
  const baseURL = options.upstream.replace(/\/$/, '');
  const models = options.models ?? DEFAULT_MODELS;
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  const cache = new ResultCache<UpstreamAnswer & { timing: Record<string, string> }>(realClock, options.cacheTtlMs ?? 0);
  const cacheCounter = counter(registry, GATEWAY_METRICS.cache);

  const server = createServer((req, res) => {
    route(req, res).catch(() => sendError(res, 500, { message: 'The gateway failed to handle this request.', type: GATEWAY_ERROR_TYPE, param: null, code: 'internal_error' }));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz' && req.method === 'GET') {
      const circuit = limiter.circuit.stateAt(limiter.clock.now());
      return sendJson(res, circuit === 'open' ? 503 : 200, { status: circuit === 'open' ? 'upstream circuit open' : 'ready', circuit });
    }
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': registry.contentType });
      return void res.end(await registry.metrics());
    }
    if (path === '/v1/images/generations') {
      if (req.method !== 'POST') return sendError(res, 405, { message: `Invalid method for URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null }, { allow: 'POST' });
      const client = clients.identify(req.headers.authorization);
      if (!client) return sendError(res, 401, { message: 'Incorrect API key provided for the ratelab gateway.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
      return generate(req, res, client);
    }
    return sendError(res, 404, { message: `Invalid URL (${req.method} ${path.slice(0, 200)})`, type: 'invalid_request_error', param: null, code: null });
  }

  async function generate(req: IncomingMessage, res: ServerResponse, client: GatewayClient): Promise<void> {
    const body = await readBody(req, maxBody);
    if (!body) return;
    if (body.tooLarge) return sendError(res, 413, { message: `Request body too large: the limit is ${maxBody} bytes.`, type: 'invalid_request_error', param: null, code: 'payload_too_large' });
    let image;
    try {
      image = validateImageRequest(req.headers['content-type'], body.bytes, models);
    } catch (error) {
      if (error instanceof RequestError) return sendError(res, error.status, error.body);
      throw error;
    }
    const bypass = !cache.enabled || /no-cache|no-store/.test(String(req.headers['cache-control'] ?? '')) || req.headers['x-ratelab-cache'] === 'off';
    // A call others may join (coalescing) must not die with the client that started it.
    const gone = new AbortController();
    if (bypass) res.on('close', () => res.writableFinished || gone.abort());
    const call = () => callUpstream(body.bytes.toString('utf8'), image, client, gone.signal);
    let answer: Answer;
    if (bypass) {
      answer = await call();
      if (cache.enabled) cacheCounter.inc({ result: 'bypass' });
    } else {
      const cached = await cache.run(ResultCache.key(image), call, (a) => a.status === 200);
      cacheCounter.inc({ result: cached.result });
      answer = cached.result === 'miss' ? cached.value : { ...cached.value, timing: { ...cached.value.timing, 'x-ratelab-cache': cached.result } };
    }
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, ...answer.timing });
    res.end(answer.body);
  }

  /** One request through the limiter, as the answer the client will get (refusals included). */
  async function callUpstream(body: string, image: ImageRequest, client: GatewayClient, signal: AbortSignal): Promise<Answer> {
    const execution = await limiter.execute(upstreamCall(baseURL, options.upstreamKey, body), { cost: image, priority: client.priority, signal });
    const timing: Record<string, string> = {
      'x-ratelab-queue-ms': String(Math.round(execution.queueMs)),
      'x-ratelab-attempts': String(execution.attempts),
      ...(execution.lastStatus === undefined ? {} : { 'x-ratelab-upstream-status': String(execution.lastStatus) }),
    };
    if (execution.error instanceof LimiterError) {
      const r = refusal(execution.error);
      return errorAnswer(r.status, r.body, { ...r.headers }, timing);
    }
    if (!(execution.value instanceof Response)) {
      return errorAnswer(502, { message: 'The provider could not be reached.', type: GATEWAY_ERROR_TYPE, param: null, code: 'upstream_unreachable' }, {}, timing);
    }
    return { ...(await toAnswer(execution.value)), timing };
  }

  let active = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_req, res: ServerResponse) => {
    active++;
    res.on('close', () => {
      if (--active === 0) drained?.();
    });
  });

  async function shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    limiter.close();
    if (active > 0) {
      await Promise.race([new Promise<void>((resolve) => (drained = resolve)), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    server.closeAllConnections();
    await closed;
  }

  const url = await listen(server, options.port, options.host);
  return {
    url,
    baseURL: `${url}/v1`,
    limiter,
    clients,
    registry,
    server,
    close: (graceMs = 30_000) => shutdown(graceMs),
  };
}
