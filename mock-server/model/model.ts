import { Registry } from 'prom-client';
import { realClock, type Clock } from '../../src/core/clock.ts';
import { ceilMs, formatGoDuration } from '../../src/core/duration.ts';
import { createRng } from '../../src/core/rng.ts';
import { createTimeScale, type TimeScale } from '../../src/core/time-scale.ts';
import type { MockReason } from '../../src/metrics/catalogue.ts';
import { catalogueOf, loadProfile, type ProfileInput } from '../profiles/index.ts';
import type { Profile } from '../profiles/schema.ts';
import { Accounts, type Account } from './accounts.ts';
import { handleAdmin } from './admin.ts';
import { ConfigError } from '../../src/core/validation.ts';
import type { Rng } from '../../src/core/rng.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Catalogue, CatalogueModel } from '../../src/openai/catalogue.ts';
import type { Endpoint } from '../../src/openai/catalogue-schema.ts';
import { costInputOf, costOfTokens, estimateTokens, type TokenEstimate } from '../../src/openai/cost.ts';
import { RequestError } from '../../src/openai/errors.ts';
import { modelsAnswer } from '../../src/openai/models-answer.ts';
import type { ImageRequest, ValidationContext } from '../../src/openai/request.ts';
import { sizeLabel } from '../../src/openai/sizes.ts';
import { completedEvent, errorEvent, partialImageEvent } from '../../src/openai/stream-events.ts';
import { limitPlan } from './accounts.ts';
import { latencyRequestOf, referenceTokens } from './latency-request.ts';
import { readImageRequest } from '../../src/openai/read-request.ts';
import { clientClosed, errorResponse, jsonResponse, serverError } from './errors.ts';
import { Faults } from './faults.ts';
import { ImageStore, type ImageMode } from './images.ts';
import { LatencyModel } from './latency.ts';
import { DIMENSION_TEXT, type Admission } from './limits.ts';
import { createMockMetrics, silentMockMetrics, type MockMetrics } from './metrics.ts';
import { GpuPool } from './pool.ts';
import { scaleProfile } from './scaled.ts';
import { MockStats } from './stats.ts';
import type { MockRequest, MockResponse } from './types.ts';

export interface MockModelOptions {
  /** A built-in name (`openai`, `article`, `zero`), a profile file path, or a profile object. Default `openai`. */
  profile?: string | ProfileInput;
  /** Seed for latency and fault draws. Default 1. */
  seed?: number;
  /** Default: the real clock. Tests and src/sim pass a VirtualClock. */
  clock?: Clock;
  /** Multiplies every duration of the profile. Default 1 (real time). */
  timeScale?: number;
  /** prom-client registry for /metrics. Default: a new one per model. */
  registry?: Registry;
  /** When set, admin routes also need `x-ratelab-admin-token: <token>`. */
  adminToken?: string;
  /** Where unexpected errors go, with their stack. Default: a process warning. */
  logger?: Pick<Logger, 'error'>;
  /** false: nothing is counted for /metrics (the simulator, which nobody scrapes). Default true. */
  metrics?: boolean;
  /** `placeholder`: every image a 1×1 PNG, nothing rendered (for callers that never read one). Default `rendered`. */
  images?: ImageMode;
}

/** What `handleImage` needs of a request besides its validated fields. */
export interface DirectImageRequest {
  /** Header names in lower case: `authorization` at least. */
  headers: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** false: a 200 carries no body (the caller never reads the image). Default true. */
  imageBody?: boolean;
}

interface RequestContext {
  account: Account;
  arrivedAt: number;
  requestId: string;
  /** Known once the request is read: its limit headers are the ones its model draws from. */
  model?: CatalogueModel;
}

/** A generation the GPU has taken on: what was asked, what it bills, how long it takes. */
interface Generated {
  image: ImageRequest;
  tokens: TokenEstimate;
  serviceMs: number;
  /** Blocked by moderation at the output stage: its time and tokens are spent, and no image comes. */
  blocked: boolean;
}

export interface Outcome {
  response: MockResponse;
  reason: MockReason;
}

const RATE_LIMIT_DOCS = 'Visit https://platform.openai.com/account/rate-limits to learn more.';
const STALL_RECHECK_MS = 1000;

/**
 * The stand-in for OpenAI's image API: pure and clock-driven. Adapters (msw, node:http)
 * turn their requests into `MockRequest`s and call `handle`; both share this one core.
 */
export class MockModel {
  readonly profile: Profile;
  readonly scaled: Profile;
  readonly timeScale: TimeScale;
  readonly clock: Clock;
  readonly seed: number;
  readonly stats = new MockStats();
  readonly metrics: MockMetrics;
  readonly pool: GpuPool;
  readonly accounts: Accounts;
  readonly faults: Faults;
  readonly images: ImageStore;
  readonly startedAt: number;
  readonly adminToken: string | undefined;
  private readonly logger: Pick<Logger, 'error'> | undefined;
  readonly catalogue: Catalogue;
  /** Model ids this profile answers (retired ones answered as retired). */
  readonly served: readonly string[];
  private readonly validation: Omit<ValidationContext, 'endpoint'>;
  private readonly latency: LatencyModel;
  private readonly moderationRng: Rng;
  private inFlight = 0;
  private requestSeq = 0;

  constructor(options: MockModelOptions = {}) {
    this.profile = loadProfile(options.profile ?? 'openai');
    this.timeScale = createTimeScale(options.timeScale ?? 1);
    this.scaled = scaleProfile(this.profile, this.timeScale.factor);
    this.clock = options.clock ?? realClock;
    this.seed = options.seed ?? 1;
    this.adminToken = options.adminToken;
    this.logger = options.logger;
    this.images = new ImageStore(options.images);
    this.startedAt = this.clock.now();
    this.catalogue = catalogueOf(this.profile);
    this.served = this.profile.serve === 'all' ? this.catalogue.ids() : this.profile.serve;
    const unknown = this.served.find((id) => !this.catalogue.get(id));
    if (unknown) throw new ConfigError(`Expected \`serve\` in profile "${this.profile.name}" to list catalogue models (${this.catalogue.ids().join(', ')}), got \`${unknown}\``);
    this.validation = { catalogue: this.catalogue, models: this.served, mode: 'full', access: this.profile.access };
    const rng = createRng(this.seed);
    this.latency = new LatencyModel(this.scaled.latency, rng.fork('latency'), referenceTokens(this.profile, this.catalogue));
    this.moderationRng = rng.fork('moderation');
    this.faults = new Faults(this.scaled.faults, this.startedAt, rng.fork('faults'));
    this.pool = new GpuPool(this.scaled.pool, this.clock, this.timeScale.toClock(STALL_RECHECK_MS));
    this.accounts = new Accounts(this.scaled, this.clock, limitPlan(this.scaled, this.catalogue.factsFor(this.catalogue.defaultModel)));
    this.metrics = options.metrics === false ? silentMockMetrics() : createMockMetrics(options.registry ?? new Registry(), this.timeScale.factor, () => this.pool.state(), () => this.inFlight);
  }

  async handle(req: MockRequest): Promise<MockResponse> {
    let outcome: Outcome;
    try {
      outcome = await this.route(req);
    } catch (error) {
      outcome = this.unexpected(error, req.method, req.path);
    }
    req.onOutcome?.(outcome.reason);
    return this.counted(outcome);
  }

  /**
   * An images request from our side of the wire (the simulator): already validated with
   * `validationFor(endpoint)`, so no body is read or parsed, and with `imageBody: false` no 200 body is
   * built either. Accounts, limits, faults, the GPU pool, stats and metrics are the ones
   * `handle` uses, so the answer is the one the HTTP path gives, without the bytes.
   */
  async handleImage(image: ImageRequest, req: DirectImageRequest): Promise<MockResponse> {
    let outcome: Outcome;
    try {
      const started = this.started(req);
      outcome = 'response' in started ? started : await this.generate(started, image, req, req.imageBody ?? true);
    } catch (error) {
      outcome = this.unexpected(error, 'POST', `/v1/images/${image.endpoint}`);
    }
    return this.counted(outcome);
  }

  /** What `handleImage` callers validate with (`validateImageFields`): the profile's models and access. */
  validationFor(endpoint: Endpoint): ValidationContext {
    return { ...this.validation, endpoint };
  }

  private unexpected(error: unknown, method: string, path: string): Outcome {
    if (!(error instanceof RequestError)) {
      if (this.logger) this.logger.error({ err: error, method, path }, 'unexpected error');
      else process.emitWarning(`ratelab mock: unexpected error: ${(error as Error).message}`);
    }
    return { response: serverError(500), reason: 'injected_error' };
  }

  private counted({ response, reason }: Outcome): MockResponse {
    if (reason !== 'admin') {
      const status = response.reset ? 0 : response.status;
      this.stats.record(status, reason);
      this.metrics.countRequest(status, reason);
    }
    return response;
  }

  /**
   * Renders the images every response may carry. Adapters await it before serving; tests on
   * a virtual clock must too, since encoding is real I/O that virtual time cannot wait for.
   */
  ready(): Promise<void> {
    return this.images.warm();
  }

  /** Releases timers (tier upgrades); the model answers nothing useful afterwards. */
  close(): void {
    this.accounts.dispose();
  }

  private async route(req: MockRequest): Promise<Outcome> {
    const { path, method } = req;
    if (path === '/v1/images/generations') return method === 'POST' ? this.image(req, 'generations') : this.methodNotAllowed(req, 'POST');
    if (path === '/v1/images/edits') return method === 'POST' ? this.image(req, 'edits') : this.methodNotAllowed(req, 'POST');
    if (path === '/v1/models' || path.startsWith('/v1/models/')) return method === 'GET' ? this.listModels(req) : this.methodNotAllowed(req, 'GET');
    if (path === '/metrics' && method === 'GET') {
      const registry = this.metrics.registry;
      if (!registry) return { response: errorResponse(404, { message: 'This mock model records no metrics (metrics: false).', type: 'invalid_request_error', param: null, code: null }), reason: 'admin' };
      return { response: { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() }, reason: 'admin' };
    }
    if (path === '/healthz' && method === 'GET') return { response: jsonResponse(200, { status: 'ok', timeScale: this.timeScale.factor }), reason: 'admin' };
    if (path.startsWith('/__admin/')) return { response: await handleAdmin(this, req), reason: 'admin' };
    await drain(req.bodyStream);
    const hint = path === '/v1/images/variations' ? ': the variations endpoint is retired; use /v1/images/edits with a GPT image model' : path.startsWith('/v1/images/') ? ': the ratelab mock serves /v1/images/generations and /v1/images/edits' : '';
    return {
      response: errorResponse(404, { message: `Invalid URL (${method} ${path.slice(0, 200)})${hint}`, type: 'invalid_request_error', param: null, code: null }),
      reason: 'not_found',
    };
  }

  private methodNotAllowed(req: MockRequest, allow: string): Outcome {
    return {
      response: errorResponse(405, { message: `Invalid method for URL (${req.method} ${req.path})`, type: 'invalid_request_error', param: null, code: null }, { allow }),
      reason: 'method_not_allowed',
    };
  }

  private authenticate(req: Pick<MockRequest, 'headers'>): Account | Outcome {
    const header = req.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!key) {
      const message =
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). Use sk-tier1-<anything> with the ratelab mock.";
      return { response: errorResponse(401, { message, type: 'invalid_request_error', param: null, code: null }), reason: 'unauthorized' };
    }
    const account = this.accounts.get(key);
    if (!account) {
      const message = 'Incorrect API key provided. The ratelab mock accepts sk-tier<N>-<anything> (tier N) and sk-unverified-<anything>.';
      return { response: errorResponse(401, { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' }), reason: 'unauthorized' };
    }
    return account;
  }

  private listModels(req: MockRequest): Outcome {
    const auth = this.authenticate(req);
    if ('response' in auth) return auth;
    const answer = modelsAnswer(req.path, this.served, this.catalogue);
    const reason: MockReason = answer.kind === 'ok' ? 'ok' : answer.kind === 'retired' ? 'retired_model' : 'not_found';
    return { response: jsonResponse(answer.status, answer.body), reason };
  }

  /** Who asks, and when: the request's context, or the 401 that ends it. */
  private started(req: Pick<MockRequest, 'headers'>): RequestContext | Outcome {
    const arrivedAt = this.clock.now();
    const auth = this.authenticate(req);
    if ('response' in auth) return auth;
    return { account: auth, arrivedAt, requestId: `req_${(++this.requestSeq).toString(16).padStart(24, '0')}` };
  }

  private async image(req: MockRequest, endpoint: Endpoint): Promise<Outcome> {
    const ctx = this.started(req);
    if ('response' in ctx) {
      await drain(req.bodyStream);
      return ctx;
    }
    if (req.bodyTooLarge) {
      const error = { message: `Request body too large: the limit is ${this.profile.maxBodyBytes} bytes.`, type: 'invalid_request_error', param: null, code: 'payload_too_large' };
      return this.answer(ctx, errorResponse(413, error), 'payload_too_large');
    }
    let image: ImageRequest;
    try {
      image = await readImageRequest({ contentType: req.headers['content-type'], bytes: req.body, stream: req.bodyStream }, endpoint, this.validation, this.profile.uploads);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      const reason: MockReason = error.status === 413 ? 'payload_too_large' : error.body.code === 'model_not_found' ? 'retired_model' : 'invalid_request';
      return this.answer(ctx, errorResponse(error.status, error.body), reason);
    }
    return this.generate(ctx, image, req, true);
  }

  /** A validated images request, from its limits to its answer. */
  private async generate(ctx: RequestContext, image: ImageRequest, req: Pick<MockRequest, 'headers' | 'signal'>, imageBody: boolean): Promise<Outcome> {
    const { arrivedAt } = ctx;
    const model = this.catalogue.factsFor(image.model);
    ctx.model = model;
    const limits = ctx.account.limitsFor(model, arrivedAt);
    if (!limits) return this.answer(ctx, tierGate(image.model), 'tier_gate');

    this.noteRetries(req, ctx.account, arrivedAt);
    const faults = this.faults.decide(arrivedAt);
    const moderation = faults.moderation ?? this.moderationDraw();
    // An input-stage block is decided on the prompt alone: fast, and nothing is charged.
    if (moderation === 'input') return this.answer(ctx, moderationBlocked('input'), 'moderation_blocked');
    const tokens = estimateTokens(costInputOf(image), this.catalogue);
    const cost = costOfTokens(tokens, image.n);
    const admission = limits.admit(cost, arrivedAt);
    if (!admission.ok) return this.answer(ctx, this.limitRefusal(ctx.account, image, admission, arrivedAt), admission.tooLarge ? 'request_too_large' : 'rate_limit');

    if (faults.outage !== undefined) return this.answer(ctx, serverError(faults.outage), 'outage');
    if (faults.reset) return { response: connectionReset(), reason: 'reset' };
    if (faults.stallMs !== undefined) {
      await this.clock.sleep(faults.stallMs, req.signal).catch(() => undefined);
      return { response: connectionReset(), reason: 'stall' };
    }
    if (faults.error !== undefined) return this.answer(ctx, serverError(faults.error), 'injected_error');

    const serviceBase = this.latency.sample(latencyRequestOf(image, this.catalogue)) * faults.latencyFactor;
    this.inFlight++;
    let streaming = false;
    try {
      const slot = await this.pool.acquire(req);
      this.metrics.observeQueueWait(slot.waitedMs / 1000);
      if (!slot.ok) {
        if (slot.reason === 'client_closed') return { response: clientClosed(), reason: 'client_closed' };
        return this.answer(ctx, this.contentionRefusal(ctx.account), slot.reason === 'queue_full' ? 'contention' : 'queue_timeout');
      }
      const serviceMs = serviceBase * slot.slowdown;
      const done: Generated = { image, tokens, serviceMs, blocked: moderation === 'output' };
      if (image.stream) {
        // The stream holds the slot (and the in-flight count) until its last event or the client leaves.
        streaming = true;
        const stream = this.streamEvents(done, slot.release, req.signal);
        // Counted once, when it starts: a stream blocked at the output stage answers 200 and ends with an error event.
        return this.answer(ctx, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body: '', stream }, done.blocked ? 'moderation_blocked' : 'ok');
      }
      if (serviceMs > 0) {
        try {
          // The GPU finishes what it started even if the client leaves, so no signal here.
          await this.clock.sleep(serviceMs);
        } finally {
          slot.release();
        }
        if (req.signal?.aborted) return { response: clientClosed(), reason: 'client_closed' };
      } else {
        slot.release();
      }
      // An output-stage block comes after the generation's time, and its tokens stay charged.
      if (done.blocked) return this.answer(ctx, moderationBlocked('output'), 'moderation_blocked');
      this.generated(done);
      const body = imageBody ? imageResponseBody(image, await this.images.get(image.width, image.height, image.format, image.background === 'transparent'), Math.floor(this.clock.now() / 1000), tokens) : '';
      return this.answer(ctx, { status: 200, headers: { 'content-type': 'application/json' }, body }, 'ok');
    } finally {
      if (!streaming) this.inFlight--;
    }
  }

  /** Counts a finished generation. */
  private generated(done: Generated): void {
    const { image } = done;
    this.metrics.observeService(image.quality, sizeLabel(image.width, image.height), done.serviceMs / 1000);
    this.stats.images += image.n;
  }

  /**
   * The events of a streamed generation: partial images spread over its time (a partial
   * too close to the end is skipped, so a fast image arrives before all its partials),
   * then the completed event with usage. The GPU slot is held until then; a client that
   * leaves (signal) ends the stream and frees the slot at once.
   */
  private async *streamEvents(done: Generated, release: () => void, signal: AbortSignal | undefined): AsyncGenerator<string> {
    const { image, serviceMs } = done;
    const start = this.clock.now();
    try {
      const b64 = await this.images.get(image.width, image.height, image.format, image.background === 'transparent');
      const echo = { background: image.background, output_format: image.format, quality: image.quality, size: image.size, created_at: 0 };
      const at = partialTimes(image.partialImages, serviceMs, this.scaled.streaming);
      for (let i = 0; i < at.length; i++) {
        await this.clock.sleep(start + at[i]! - this.clock.now(), signal);
        yield partialImageEvent(image.endpoint, b64, i, { ...echo, created_at: Math.floor(this.clock.now() / 1000) });
      }
      await this.clock.sleep(start + serviceMs - this.clock.now(), signal);
      if (done.blocked) {
        yield errorEvent({ ...moderationBody('output') });
        return;
      }
      this.generated(done);
      yield completedEvent(image.endpoint, b64, { ...echo, created_at: Math.floor(this.clock.now() / 1000) }, usageOf(done.tokens), image.safetyIdentifier);
    } finally {
      release();
      this.inFlight--;
    }
  }

  /** The profile's moderation rate; draws only when it is set, so seeded runs without it are unchanged. */
  private moderationDraw(): 'input' | 'output' | undefined {
    const { rate, outputShare } = this.profile.moderation;
    if (rate <= 0 || this.moderationRng.next() >= rate) return undefined;
    return this.moderationRng.next() < outputShare ? 'output' : 'input';
  }

  /** Adds what every answer to an account carries: request id, organization, timing, limit headers. */
  private answer(ctx: RequestContext, response: MockResponse, reason: MockReason): Outcome {
    const now = this.clock.now();
    const headers = response.headers;
    headers['x-request-id'] = ctx.requestId;
    headers['openai-organization'] = ctx.account.org;
    headers['openai-version'] = '2020-10-01';
    headers['openai-processing-ms'] = String(Math.round(now - ctx.arrivedAt));
    if (ctx.model && !this.profile.limits.omitHeaders) ctx.account.limitsFor(ctx.model, now)?.writeHeaders(headers, now);
    return { response, reason };
  }

  /** Counts SDK retries (X-Stainless-Retry-Count) and requests that came back too early. */
  private noteRetries(req: Pick<MockRequest, 'headers'>, account: Account, now: number): void {
    const retryCount = Number(req.headers['x-stainless-retry-count'] ?? 0);
    if (Number.isInteger(retryCount) && retryCount > 0) {
      const key = String(Math.min(retryCount, 10));
      this.stats.clientRetries[key] = (this.stats.clientRetries[key] ?? 0) + 1;
      this.metrics.countClientRetry();
    }
    if (now < account.notBefore) {
      this.stats.earlyRetries++;
      this.metrics.countEarlyRetry();
    }
  }

  private limitRefusal(account: Account, image: ImageRequest, admission: Exclude<Admission, { ok: true }>, now: number): MockResponse {
    const where = `for ${image.model} in organization ${account.org} on ${DIMENSION_TEXT[admission.dimension]}`;
    const type = admission.dimension === 'tpm' ? 'tokens' : 'requests';
    this.stats.limitRejections[admission.dimension] = (this.stats.limitRejections[admission.dimension] ?? 0) + 1;
    this.metrics.countLimitRejection(admission.dimension);
    if (admission.tooLarge) {
      const message = `Request too large ${where}: Limit ${admission.limit}, Requested ${admission.requested}. The input or output tokens must be reduced in order to run successfully. ${RATE_LIMIT_DOCS}`;
      return errorResponse(429, { message, type, param: null, code: 'rate_limit_exceeded' });
    }
    const waitMs = ceilMs(admission.waitMs);
    account.notBefore = Math.max(account.notBefore, now + waitMs);
    const message = `Rate limit reached ${where}: Limit ${admission.limit}, Used ${admission.used}, Requested ${admission.requested}. Please try again in ${formatGoDuration(waitMs)}. ${RATE_LIMIT_DOCS}`;
    return errorResponse(429, { message, type, param: null, code: 'rate_limit_exceeded' }, retryAfterHeaders(this.profile.limits.retryAfter, waitMs));
  }

  private contentionRefusal(account: Account): MockResponse {
    const { status, retryAfter } = this.scaled.pool.contention;
    const headers = retryAfter === undefined ? {} : retryAfterHeaders('both', retryAfter);
    if (retryAfter !== undefined) account.notBefore = Math.max(account.notBefore, this.clock.now() + retryAfter);
    if (status === 503) return serverError(503, headers);
    return errorResponse(429, { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null }, headers);
  }
}

function usageOf(t: TokenEstimate) {
  const input = t.textTokens + t.imageInputTokens;
  return {
    input_tokens: input,
    input_tokens_details: { image_tokens: t.imageInputTokens, text_tokens: t.textTokens },
    output_tokens: t.outputTokens,
    total_tokens: input + t.outputTokens,
  };
}

/**
 * The 200 body, spliced as text: base64 needs no JSON escaping, and JSON.stringify over a
 * 100 KB image string was the largest cost of a request (see bench/RESULTS.md).
 */
function imageResponseBody(image: ImageRequest, b64: string, created: number, tokens: TokenEstimate): string {
  const item = `{"b64_json":"${b64}"}`;
  const data = image.n === 1 ? item : Array.from({ length: image.n }, () => item).join(',');
  const usage = JSON.stringify({ ...usageOf(tokens), output_tokens_details: { image_tokens: tokens.outputTokens, text_tokens: 0 } });
  const safety = image.safetyIdentifier === undefined ? '' : `,"safety_identifier":${JSON.stringify(image.safetyIdentifier)}`;
  return `{"created":${created},"background":"${image.background}","data":[${data}],"output_format":"${image.format}","quality":"${image.quality}","size":"${image.size}"${safety},"usage":${usage}}`;
}

function moderationBody(stage: 'input' | 'output') {
  return {
    message: 'Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID.',
    type: 'image_generation_user_error',
    param: null,
    code: 'moderation_blocked',
    moderation_details: { moderation_stage: stage, categories: ['ratelab-simulated'] },
  };
}

const moderationBlocked = (stage: 'input' | 'output'): MockResponse => errorResponse(400, moderationBody(stage));

/** Where partial images fall in a generation of `serviceMs` (ms from its start). */
export function partialTimes(count: number, serviceMs: number, timing: Profile['streaming']): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const share = count === 1 ? timing.firstPartialAt : timing.firstPartialAt + ((timing.lastPartialAt - timing.firstPartialAt) * i) / (count - 1);
    const t = share * serviceMs;
    if (serviceMs - t < timing.minGap) break;
    if (times.length > 0 && t - times[times.length - 1]! < timing.minGap) continue;
    times.push(t);
  }
  return times;
}

/** Reads what no one will answer, so the connection can be reused. */
async function drain(body: AsyncIterable<Uint8Array> | undefined): Promise<void> {
  if (!body) return;
  try {
    for await (const _ of body);
  } catch {
    // a client that went away mid-body: nothing to answer
  }
}

function tierGate(model: string): MockResponse {
  const message = `Your organization must be verified to use the model \`${model}\`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.`;
  return errorResponse(403, { message, type: 'invalid_request_error', param: null, code: null });
}

const connectionReset = (): MockResponse => ({ status: 0, headers: {}, body: '', reset: true });

function retryAfterHeaders(mode: Profile['limits']['retryAfter'], waitMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (mode === 'seconds' || mode === 'both') headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
  if (mode === 'ms' || mode === 'both') headers['retry-after-ms'] = String(Math.ceil(waitMs));
  return headers;
}

