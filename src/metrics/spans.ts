import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

/**
 * The one catalogue of span names, event names and attribute keys, as `catalogue.ts` is for
 * metrics: the gateway, the limiter, the mock and the README's span table read it here.
 * HTTP keys are OpenTelemetry's stable semantic conventions (imported); the gen-ai ones are
 * still incubating, and OpenTelemetry asks that incubating keys be copied rather than
 * imported (they may move between minor versions): so they are written out below.
 * Attributes never hold a key, a prompt or an image.
 */
export const SPAN_NAMES = {
  /** The limiter's wait before an attempt: at entry, and again before each retry. */
  queue: 'ratelab.limiter.queue',
  /** One call to an upstream (a CLIENT span), child of the request it serves. */
  attempt: 'ratelab.upstream.attempt',
  /** One run of an async job, linked to the request that submitted it and to the run before. */
  jobRun: 'ratelab.job.run',
} as const;

export const SPAN_EVENTS = {
  /** A stream's first image event (a partial image, or the final one when none came before). */
  firstImage: 'ratelab.first_image',
  /** The limiter gave up on the task: shed with a reason (`ratelab.shed_reason`). */
  shed: 'ratelab.limiter.shed',
} as const;

export const SPAN_ATTRS = {
  httpMethod: ATTR_HTTP_REQUEST_METHOD,
  httpRoute: ATTR_HTTP_ROUTE,
  httpStatus: ATTR_HTTP_RESPONSE_STATUS_CODE,
  /** Semantic conventions: the ordinal of a resent request; attempt 1 has none. */
  resendCount: ATTR_HTTP_REQUEST_RESEND_COUNT,
  urlPath: ATTR_URL_PATH,
  urlFull: ATTR_URL_FULL,
  serverAddress: ATTR_SERVER_ADDRESS,
  serverPort: ATTR_SERVER_PORT,
  errorType: ATTR_ERROR_TYPE,
  genAiOperation: 'gen_ai.operation.name',
  genAiProvider: 'gen_ai.provider.name',
  genAiModel: 'gen_ai.request.model',
  genAiOutputType: 'gen_ai.output.type',
  genAiChoiceCount: 'gen_ai.request.choice_count',
  genAiStream: 'gen_ai.request.stream',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  /** Seconds from the request to its first chunk: here, its first image. */
  genAiTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  client: 'ratelab.client',
  quality: 'ratelab.image.quality',
  size: 'ratelab.image.size',
  inputImages: 'ratelab.image.input_count',
  timeScale: 'ratelab.time_scale',
  priority: 'ratelab.limiter.priority',
  /** Why a task waited: budget, concurrency, pause, circuit, priority (a shared store keeps room for higher ones), backoff, or queue (behind others). */
  waitReason: 'ratelab.limiter.wait_reason',
  /** The wait is before a retry, not at entry. */
  retry: 'ratelab.limiter.retry',
  shedReason: 'ratelab.limiter.shed_reason',
  upstream: 'ratelab.upstream.name',
  attempt: 'ratelab.upstream.attempt',
  /** How the limiter classified the attempt: ok, limit, contention, server, fatal, timeout, network, cancelled. */
  outcome: 'ratelab.upstream.outcome',
  retryAfterMs: 'ratelab.upstream.retry_after_ms',
  remainingRequests: 'ratelab.ratelimit.remaining_requests',
  remainingTokens: 'ratelab.ratelimit.remaining_tokens',
  jobId: 'ratelab.job.id',
  jobRun: 'ratelab.job.run',
  mockReason: 'ratelab.mock.reason',
} as const;

/** What the gateway says of itself in gen-ai terms: an image request to OpenAI. */
export const GEN_AI_IMAGE = { [SPAN_ATTRS.genAiOperation]: 'generate_content', [SPAN_ATTRS.genAiProvider]: 'openai', [SPAN_ATTRS.genAiOutputType]: 'image' } as const;
