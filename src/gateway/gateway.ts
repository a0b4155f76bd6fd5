import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttpServer, type HttpTimeouts } from '../core/http-server.ts';
import { protocolErrorBody } from '../openai/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Registry } from 'prom-client';
import { realClock } from '../core/clock.ts';
import { listen } from '../core/http-listen.ts';
import { parseLimiterConfig, type LimiterConfigInput } from '../limiter/config.ts';
import type { Limiter } from '../limiter/limiter.ts';
import type { RedisStore } from '../limiter/redis-store.ts';
import { parseRedisUrl } from '../limiter/redis-url.ts';
import { GATEWAY_METRICS } from '../metrics/catalogue.ts';
import { counter, gauge, tracedHistogram } from '../metrics/register.ts';
import { startTracing, type ServerSpan, type Tracing } from '../metrics/tracing.ts';
import { describeAnswer, describeImage, inJobRunSpan, requestSpan } from './request-span.ts';
import { Clients, type GatewayClient } from './clients.ts';
import { parseGatewayConfig, type ClientConfig, type GatewayConfig, type GatewayConfigInput } from './config.ts';
import { sendError, sendJson, sentErrors } from './http-io.ts';
import { imageCall, jobCall, type Answer } from './image-call.ts';
import { StreamRelay } from './stream-relay.ts';
import { Redactor } from './redact.ts';
import { CATALOGUE, type Catalogue } from '../openai/catalogue.ts';
import type { Endpoint } from '../openai/catalogue-schema.ts';
import { OPENAI_UPLOAD_LIMITS } from '../openai/edit-inputs.ts';
import { modelsAnswer } from '../openai/models-answer.ts';
import { costInputOf } from '../openai/cost.ts';
import { priceOf } from '../openai/prices.ts';
import { MemoryJobs } from './jobs/memory-jobs.ts';
import { JobEventStreams } from './jobs/sse.ts';
import type { JobRun } from './jobs/run-outcome.ts';
import { JOB_EVENT_TYPES, type Durability, type JobBackend, type JobEvent, type JobInput, type JobRunOf } from './jobs/types.ts';
import { routeJobs } from './jobs-routes.ts';
import { GATEWAY_ERROR_TYPE } from './refusals.ts';
import { readImageInput, type ImageInput, type RequestLimits } from './request-input.ts';
import { traceLine, type TraceFacts } from './trace-record.ts';
import { TraceWriter, type TraceOptions } from './trace-writer.ts';
import { readUsage } from './upstream-call.ts';
import { ResultCache } from './result-cache.ts';
import { resolveUpstreams } from './resolve-upstreams.ts';
import { Upstreams } from './upstreams.ts';

export interface GatewayOptions {
  /** Single-upstream shorthand: the provider's base URL in the SDK's sense, e.g. http://127.0.0.1:4010/v1. */
  upstream?: string;
  /** The provider key for `upstream`; it never leaves the process (not in logs, metrics, errors or answers). */
  upstreamKey?: string;
  /** Upstreams, clients, jobs, limiter; `limiter` below is a shorthand for `config.limiter`. */
  config?: GatewayConfigInput | GatewayConfig;
  limiter?: LimiterConfigInput;
  /** Overrides `config.clients`. */
  clients?: ClientConfig[];
  timeScale?: number;
  /** Models the gateway accepts before asking the provider; overrides `config.models.serve`. */
  models?: readonly string[];
  /** The catalogue to start from (a mock profile's, say); `config.models.catalogue` applies on top. Default: the built-in one. */
  catalogue?: Catalogue;
  /** Overrides `config.maxBodyBytes`. */
  maxBodyBytes?: number;
  registry?: Registry;
  /** Result cache TTL in ms; overrides `config.cacheTtl`. 0 = off (the default: cache hits are not capacity). */
  cacheTtlMs?: number;
  /**
   * Redis for several replicas: jobs go to BullMQ there, and every upstream's budgets,
   * concurrency and pause are shared through the limiter's Redis store.
   */
  redisUrl?: string;
  /** Default: headers within 10 s, the whole request within 30 s, idle keep-alive 5 s. */
  timeouts?: HttpTimeouts;
  /** Default: pino at `logLevel` to stdout, every line scrubbed of the configured secrets. */
  logger?: Logger;
  /** For the default logger. Default LOG_LEVEL, else `info`. */
  logLevel?: string;
  /** For the default logger: where its lines go. Default stdout (readable lines on a terminal). */
  logDestination?: NodeJS.WritableStream;
  /** Where `apiKeyEnv` / `keyEnv` are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
  /** One JSON line per images request to this file (or with rotation settings); overrides `config.trace`. Default none. */
  trace?: string | TraceOptions;
  /** OpenTelemetry spans. Default: started from `config.otel` and the OTEL_* environment (off unless an endpoint is set); closed with the gateway. */
  tracing?: Tracing;
}

export interface RunningGateway {
  url: string;
  baseURL: string;
  /** The default upstream's limiter. */
  limiter: Limiter;
  upstreams: Upstreams;
  clients: Clients;
  jobs: JobBackend;
  registry: Registry;
  server: Server;
  /**
   * Graceful: stop accepting, answer every queued sync request with 503 `shutdown`, hand
   * queued jobs back to Redis (or fail them, in memory), let running calls finish for up to
   * `graceMs` (default the config's shutdownGrace, 30 s), then cut what is left.
   */
  close(graceMs?: number): Promise<void>;
}


/**
 * An OpenAI-compatible service in front of one or more providers: the limiters decide when
 * each request goes upstream and where, the provider's answers pass through, and the
 * gateway's own refusals say so in OpenAI's error shape. Response headers tell where time went.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const config = parseGatewayConfig(options.config ?? {});
  if (options.limiter) config.limiter = parseLimiterConfig(options.limiter);
  const timeScale = options.timeScale ?? 1;
  const registry = options.registry ?? new Registry();
  const tracing = options.tracing ?? (await startTracing('ratelab-gateway', config.otel));
  const tracer = tracing.enabled ? tracing.tracer : undefined;
  const clients = new Clients(options.clients ?? config.clients, env);
  const redisStores: RedisStore[] = [];
  // Loaded only with Redis: ioredis and BullMQ are a third of the CLI's start-up, and a gateway on memory never needs them.
  const { RedisStore: Store } = options.redisUrl ? await import('../limiter/redis-store.ts') : { RedisStore: undefined };
  const { BullmqJobs } = options.redisUrl ? await import('./jobs/bullmq-jobs.ts') : { BullmqJobs: undefined };
  const catalogue = (options.catalogue ?? CATALOGUE).with(config.models.catalogue, 'gateway config');
  const served = options.models ?? (config.models.serve === 'active' ? catalogue.active() : config.models.serve);
  const upstreams = new Upstreams(resolveUpstreams(config, options, env), {
    registry,
    timeScale,
    catalogue,
    ...(tracer ? { tracer } : {}),
    store: (name) =>
      Store
        ? (budgets, clock) => {
            const store = new Store({ redis: options.redisUrl!, budgets, clock, name, prefix: `${config.jobs.prefix}:limiter`, leaseTtlMs: config.redis.leaseTtl });
            redisStores.push(store);
            return store;
          }
        : undefined,
  });
  const redactor = new Redactor([...upstreams.list.map((u) => u.key), ...clients.keys(), redisPassword(options.redisUrl)]);
  const call = imageCall(upstreams, catalogue, redactor);
  const log =
    options.logger ??
    createLogger({ name: 'gateway', scrub: (line) => redactor.text(line), ...(options.logLevel ? { level: options.logLevel } : {}), ...(options.logDestination ? { destination: options.logDestination } : {}) });
  const traceTo = typeof options.trace === 'string' ? { path: options.trace } : (options.trace ?? config.trace);
  const trace = traceTo ? new TraceWriter(traceTo, redactor, (error) => log.error({ err: error, path: traceTo.path }, 'trace file failed: tracing stops')) : undefined;
  const jobEvents = counter(registry, GATEWAY_METRICS.jobs);
  for (const event of JOB_EVENT_TYPES) jobEvents.inc({ event }, 0);
  const observe = (e: JobEvent) => jobEvents.inc({ event: e.type });
  // A run that failed while every upstream's circuit is open is the outage's, not the job's: it waits for the first probe.
  const runJob = async (input: JobInput, signal: AbortSignal, deadline: number, run: JobRunOf): Promise<JobRun> => {
    const answer = await inJobRunSpan(tracer, input, run, (ctx) => call(jobCall(input, deadline, ctx), signal));
    const outageMs = answer.status >= 400 ? upstreams.outageMs() : undefined;
    return outageMs === undefined ? answer : { ...answer, outageMs };
  };
  const jobs: JobBackend = BullmqJobs && options.redisUrl
    ? new BullmqJobs(options.redisUrl, config.jobs, runJob, timeScale, observe, (d) => {
        const risk = durabilityRisk(d);
        if (risk) log.warn(d === 'unknown' ? {} : { appendonly: d.appendonly, maxmemoryPolicy: d.maxmemoryPolicy }, risk);
      })
    : new MemoryJobs(config.jobs, runJob, timeScale, realClock, observe);
  const streams = new JobEventStreams(config.jobs.maxSubscribers);
  const limits: RequestLimits = {
    maxBodyBytes: options.maxBodyBytes ?? config.maxBodyBytes,
    uploads: OPENAI_UPLOAD_LIMITS,
    spool: config.spool,
    // Project access to gif/svg is the provider's to judge: the gateway does not know it.
    validation: { catalogue, models: served, mode: config.validation === 'strict' ? 'full' : 'cost', access: { gif: true, svg: true } },
  };
  const cache = new ResultCache<Answer>(realClock, options.cacheTtlMs ?? config.cacheTtl * timeScale);
  const cacheCounter = counter(registry, GATEWAY_METRICS.cache);
  gauge(registry, GATEWAY_METRICS.sseSubscribers, (g) => g.set(streams.subscribers));
  const responses = counter(registry, GATEWAY_METRICS.responses);
  // With tracing on, the latency histograms carry the trace id of a sampled request as an exemplar (and /metrics is OpenMetrics).
  const duration = tracedHistogram(registry, GATEWAY_METRICS.duration, timeScale, tracer !== undefined);
  /** Each request's span, for what its handlers add to it and for its latency's exemplar. */
  const spans = new WeakMap<IncomingMessage, ServerSpan>();
  /** Answers that passed through from a provider; every other answer is the gateway's own. */
  const fromUpstream = new WeakSet<ServerResponse>();
  /** What an images answer said about itself (upstream, attempts, queue time, request id), for its log line. */
  const answerHeaders = new WeakMap<ServerResponse, Record<string, string>>();

  // Slow clients: headers within 10 s, the whole request body within 30 s (unless `timeouts` says otherwise).
  const server = createHttpServer(
    (req, res) => {
      // Every answer has an id to quote: the gateway's own, which a provider's answer replaces with the provider's.
      res.setHeader('x-request-id', `req_gw_${randomUUID().replaceAll('-', '')}`);
      const rs = requestSpan(tracer, req, res, timeScale);
      if (rs) spans.set(req, rs);
      route(req, res).catch((error: unknown) => {
        log.error({ err: error, method: req.method, path: pathOf(req) }, 'unexpected error');
        sendError(res, 500, { message: 'The gateway failed to handle this request.', type: GATEWAY_ERROR_TYPE, param: null, code: 'internal_error' });
      });
    },
    protocolErrorBody,
    options.timeouts,
  );

  gauge(registry, GATEWAY_METRICS.jobStoreDurable, (g) => {
    if (jobs.kind !== 'bullmq') return;
    const d = jobs.durability?.();
    g.set(d === undefined || d === 'unknown' ? -1 : d.persists && !d.evicts ? 1 : 0);
  });

  function readiness(): { ready: boolean; reasons: string[]; warnings: string[] } {
    const reasons: string[] = [];
    // Said, not refused: a replica on a Redis that may lose jobs still serves, and its operator must know.
    const risk = jobs.kind === 'bullmq' ? durabilityRisk(jobs.durability?.()) : undefined;
    const warnings = risk ? [risk] : [];
    if (!upstreams.anyAvailable()) reasons.push('every upstream circuit is open');
    if (!jobs.ready()) reasons.push(options.redisUrl ? 'Redis is unreachable' : 'shutting down');
    if (redisStores.some((s) => s.usingFallback)) reasons.push('limiter store on its local fallback (Redis unreachable)');
    return { ready: reasons.length === 0, reasons, warnings };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    // The time scale lets `ratelab loadtest --target` run at the gateway's own scale.
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok', timeScale });
    if (path === '/readyz' && req.method === 'GET') {
      const { ready, reasons, warnings } = readiness();
      const circuits = Object.fromEntries(upstreams.list.map((u) => [u.name, u.limiter.circuitState()]));
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', reasons, warnings, circuits, jobs: jobs.kind, ...(jobs.durability?.() !== undefined ? { jobStore: jobs.durability!() } : {}) });
    }
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': registry.contentType });
      return void res.end(await registry.metrics());
    }
    if (!path.startsWith('/v1/')) return notFound(req, res, path);
    const client = clients.identify(req.headers.authorization);
    if (!client) return sendError(res, 401, { message: 'Incorrect API key provided for the ratelab gateway.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    if (path === '/v1/images/generations' || path === '/v1/images/edits') {
      if (req.method !== 'POST') return sendError(res, 405, { message: `Invalid method for URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null }, { allow: 'POST' });
      return images(req, res, client, path === '/v1/images/edits' ? 'edits' : 'generations');
    }
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET') return sendError(res, 405, { message: `Invalid method for URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null }, { allow: 'GET' });
      return listModels(res, path);
    }
    if (await routeJobs(req, res, path, client, { jobs, streams, clients, limits, log, traceContext: spans.get(req)?.ctx })) return;
    return notFound(req, res, path);
  }

  function notFound(req: IncomingMessage, res: ServerResponse, path: string): void {
    sendError(res, 404, { message: `Invalid URL (${String(req.method).slice(0, 16)} ${path.slice(0, 200)})`, type: 'invalid_request_error', param: null, code: null });
  }

  /** The models the gateway serves, as OpenAI lists models; a retired one is answered as retired. */
  function listModels(res: ServerResponse, path: string): void {
    const answer = modelsAnswer(path, served, catalogue);
    sendJson(res, answer.status, answer.body);
  }

  async function images(req: IncomingMessage, res: ServerResponse, client: GatewayClient, endpoint: Endpoint): Promise<void> {
    const arrivedAt = Date.now();
    const seen: { input?: ImageInput; answer?: Answer; relay?: StreamRelay } = {};
    const rs = spans.get(req);
    res.on('close', () => {
      const facts = traceFacts(res, req, client, endpoint, arrivedAt, seen);
      observeImage(facts, rs?.traceId);
      describeAnswer(rs, arrivedAt, facts.usage, facts.firstImageAt);
      trace?.write(traceLine(facts));
    });
    const input = await readImageInput(req, res, endpoint, client, clients, limits);
    if (!input) return;
    seen.input = input;
    describeImage(rs, client.name, input.image);
    res.on('close', () => void input.dispose());
    const stream = input.image.stream;
    // Edits differ by their images and streams are relayed live: only plain generations are cached.
    const cacheable = cache.enabled && endpoint === 'generations' && !stream;
    const bypass = !cacheable || /no-cache|no-store/.test(String(req.headers['cache-control'] ?? '')) || req.headers['x-ratelab-cache'] === 'off';
    // A call others may join (coalescing) must not die with the client that started it.
    const gone = new AbortController();
    if (bypass) res.on('close', () => res.writableFinished || gone.abort());
    const relay = stream ? new StreamRelay(res, arrivedAt, redactor) : undefined;
    seen.relay = relay;
    const run = () => call({ image: input.image, client, upstream: input.upstream, relay, traceContext: rs?.ctx }, gone.signal);
    let answer: Answer;
    if (bypass) {
      answer = await run();
      if (cache.enabled) cacheCounter.inc({ result: 'bypass' });
    } else {
      const cached = await cache.run(ResultCache.key(input.image), run, (a) => a.status === 200);
      cacheCounter.inc({ result: cached.result });
      answer = cached.result === 'miss' ? cached.value : { ...cached.value, timing: { ...cached.value.timing, 'x-ratelab-cache': cached.result } };
    }
    seen.answer = answer;
    if (answer.source === 'upstream') fromUpstream.add(res);
    answerHeaders.set(res, { ...answer.headers, ...answer.timing });
    if (res.destroyed || answer.streamed) return;
    res.writeHead(answer.status, { ...answer.headers, ...answer.timing });
    res.end(answer.body);
  }

  const firstImage = tracedHistogram(registry, GATEWAY_METRICS.firstImage, timeScale, tracer !== undefined);
  const tokens = counter(registry, GATEWAY_METRICS.tokens);
  const spend = counter(registry, GATEWAY_METRICS.spend);
  /** An answered image's time to first image, tokens and estimated spend. */
  function observeImage(f: TraceFacts, traceId: string | undefined): void {
    if (f.status !== 200 || !f.completed || !f.image) return;
    const model = f.image.model;
    firstImage.observe({ endpoint: f.endpoint, stream: String(f.image.stream) }, Math.max(0, (f.firstImageAt ?? f.endedAt) - f.arrivedAt) / 1000, traceId);
    // A cached or coalesced answer was not billed again.
    if (f.headers['x-ratelab-cache'] === 'hit' || f.headers['x-ratelab-cache'] === 'coalesced') return;
    if (f.usage?.input_tokens) tokens.inc({ model, direction: 'input' }, f.usage.input_tokens);
    if (f.usage?.output_tokens) tokens.inc({ model, direction: 'output' }, f.usage.output_tokens);
    spend.inc({ model }, priceOf(costInputOf(f.image), catalogue));
  }

  /** What one images request came to, for its metrics and its trace line, once its answer has ended. */
  function traceFacts(res: ServerResponse, req: IncomingMessage, client: GatewayClient, endpoint: Endpoint, arrivedAt: number, seen: { input?: ImageInput; answer?: Answer; relay?: StreamRelay }): TraceFacts {
    const { input, answer, relay } = seen;
    const upload = input?.upstream;
    const requestBytes = upload?.bytes?.length ?? upload?.size ?? upload?.file?.size ?? (Number(req.headers['content-length']) || 0);
    const headers = relay?.started ? relay.sentHeaders : { ...answer?.headers, ...answer?.timing };
    const body = answer && !answer.streamed ? answer.body : undefined;
    const error = sentErrors.get(res);
    return {
      arrivedAt,
      endedAt: Date.now(),
      timeScale,
      client: client.name,
      priority: client.priority,
      endpoint,
      ...(input ? { image: input.image } : {}),
      requestBytes,
      // A client that left before any answer got none: res.statusCode would still read its default 200.
      status: res.headersSent ? res.statusCode : 0,
      completed: res.writableFinished,
      source: fromUpstream.has(res) ? 'upstream' : 'gateway',
      headers,
      ...(error ? { error } : {}),
      ...(body ? { body } : {}),
      usage: relay?.started ? relay.usage : res.statusCode === 200 && body ? readUsage(body) : undefined,
      ...(relay?.firstImageAt !== undefined ? { firstImageAt: relay.firstImageAt } : {}),
    };
  }

  let active = 0;
  let drained: (() => void) | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    active++;
    const path = req.url ?? '';
    const routeName = path.startsWith('/v1/images/') ? 'images' : path.startsWith('/v1/jobs') ? 'jobs' : undefined;
    const started = performance.now();
    res.on('close', () => {
      const source = fromUpstream.has(res) ? 'upstream' : 'gateway';
      // A sampled request's trace: its latency's exemplar, and its log line's link to its spans.
      const traceId = spans.get(req)?.traceId;
      if (routeName) {
        // Job event streams last as long as the job: their duration says nothing about the gateway.
        if (!path.endsWith('/events')) duration.observe({ route: routeName }, (performance.now() - started) / 1000, traceId);
        responses.inc({ route: routeName, status: String(res.statusCode), source });
      }
      // One line per answered request: where it went and where its time went, never a key, a prompt or an image.
      if (routeName || res.statusCode >= 500) {
        const said = answerHeaders.get(res);
        const header = (name: string) => said?.[name] ?? (res.getHeader(name) as string | undefined);
        log.info(
          {
            method: req.method,
            route: routeName ?? pathOf(req),
            status: res.statusCode,
            source,
            upstream: header('x-ratelab-upstream'),
            attempts: numberOr(header('x-ratelab-attempts')),
            queueMs: numberOr(header('x-ratelab-queue-ms')),
            latencyMs: Math.round(performance.now() - started),
            requestId: header('x-request-id'),
            completed: res.writableFinished,
            ...(traceId ? { traceId } : {}),
          },
          'answered',
        );
      }
      if (--active === 0) drained?.();
    });
  });

  async function shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    streams.closeAll();
    // Jobs first (they stop fetching and learn they are closing), then the limiters shed what waits.
    const jobsClosed = jobs.close(graceMs);
    upstreams.close();
    if (active > 0) {
      await Promise.race([new Promise<void>((resolve) => (drained = resolve)), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    server.closeAllConnections();
    await Promise.all([closed, jobsClosed]);
    await Promise.allSettled([...redisStores.map((s) => s.close()), trace?.close()]);
    // Last: the spans of the requests that just ended are exported before the gateway says it is closed.
    if (!options.tracing) await tracing.shutdown().catch((error: unknown) => log.warn({ err: error }, 'exporting the last spans failed'));
  }

  // Listen once Redis answers (or after 5 s, then /readyz says why it is not ready).
  await jobs.waitReady(5_000);
  const url = await listen(server, options.port, options.host);
  return {
    url,
    baseURL: `${url}/v1`,
    limiter: upstreams.primary.limiter,
    upstreams,
    clients,
    jobs,
    registry,
    server,
    close: (graceMs = config.shutdownGrace) => shutdown(graceMs),
  };
}

/** The password in a Redis URL, if any: a secret like the keys. */
function redisPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return parseRedisUrl(url).password;
  } catch {
    return undefined;
  }
}

/** The path without its query string (which a client might fill with anything). */
const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!.slice(0, 200);

const numberOr = (v: string | undefined): number | undefined => (v === undefined || Number.isNaN(Number(v)) ? undefined : Number(v));

/** What a Redis that holds jobs may lose, in a sentence for /readyz and the log; undefined when it keeps them (or before it has said). */
function durabilityRisk(d: Durability | 'unknown' | undefined): string | undefined {
  if (d === undefined) return undefined;
  if (d === 'unknown') return 'Redis would not say whether it persists jobs (CONFIG GET refused): check appendonly yes and maxmemory-policy noeviction';
  const risks: string[] = [];
  if (!d.persists) risks.push(`appendonly is ${d.appendonly}: a Redis restart loses every queued and finished job`);
  if (d.evicts) risks.push(`maxmemory-policy is ${d.maxmemoryPolicy}: Redis may evict jobs under memory pressure (BullMQ needs noeviction)`);
  return risks.length ? `Jobs on Redis are at risk: ${risks.join('; ')}` : undefined;
}
