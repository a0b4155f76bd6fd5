/**
 * The one catalogue of metric names, types, help, labels and buckets. Every part registers
 * its metrics from here; dashboards and alerts are written against it.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDef<L extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Histograms only: which bucket set (scaled by the run's time scale). */
  readonly buckets?: 'latency';
}

const def = <L extends string>(d: MetricDef<L>): MetricDef<L> => d;

/** Image latencies run from ~0.1 s (cached, low quality) to 180 s (high quality under load). */
export const LATENCY_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180] as const;

/** Buckets in the client's seconds: at time scale 0.01 a 25 s latency is observed as 0.25 s. */
export function latencyBuckets(timeScale: number): number[] {
  return LATENCY_BUCKETS_S.map((b) => Number((b * timeScale).toPrecision(6)));
}

/** Reasons a mock request ended the way it did; a closed set keeps label cardinality bounded. */
export const MOCK_REASONS = [
  'ok',
  'invalid_request',
  'retired_model',
  'moderation_blocked',
  'unauthorized',
  'tier_gate',
  'rate_limit',
  'request_too_large',
  'contention',
  'queue_timeout',
  'outage',
  'injected_error',
  'reset',
  'stall',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'client_closed',
  'admin',
] as const;
export type MockReason = (typeof MOCK_REASONS)[number];

export const MOCK_METRICS = {
  requests: def({
    name: 'ratelab_mock_requests_total',
    type: 'counter',
    help: 'Requests the mock answered, by HTTP status and reason.',
    labelNames: ['status', 'reason'],
  }),
  inFlight: def({ name: 'ratelab_mock_in_flight', type: 'gauge', help: 'Image requests inside the mock (queued or generating).', labelNames: [] }),
  queueDepth: def({ name: 'ratelab_mock_queue_depth', type: 'gauge', help: 'Requests waiting for a GPU slot.', labelNames: [] }),
  queueCapacity: def({ name: 'ratelab_mock_queue_capacity', type: 'gauge', help: 'Size of the GPU wait queue.', labelNames: [] }),
  busySlots: def({ name: 'ratelab_mock_busy_slots', type: 'gauge', help: 'GPU slots generating for our clients.', labelNames: [] }),
  backgroundSlots: def({ name: 'ratelab_mock_background_slots', type: 'gauge', help: 'GPU slots held by background tenants.', labelNames: [] }),
  slots: def({ name: 'ratelab_mock_slots', type: 'gauge', help: 'GPU slots in the shared pool.', labelNames: [] }),
  serviceSeconds: def({
    name: 'ratelab_mock_service_seconds',
    type: 'histogram',
    help: 'Generation time of successful requests (client seconds), by quality and size.',
    labelNames: ['quality', 'size'],
    buckets: 'latency',
  }),
  queueWaitSeconds: def({
    name: 'ratelab_mock_queue_wait_seconds',
    type: 'histogram',
    help: 'Time requests waited for a GPU slot (client seconds).',
    labelNames: [],
    buckets: 'latency',
  }),
  limitRejections: def({
    name: 'ratelab_mock_limit_rejections_total',
    type: 'counter',
    help: 'Account limit 429s, by the limit that was hit (rpm, ipm, tpm).',
    labelNames: ['dimension'],
  }),
  earlyRetries: def({
    name: 'ratelab_mock_early_retries_total',
    type: 'counter',
    help: 'Requests that arrived before the retry-after (or reset) their account was told to wait.',
    labelNames: [],
  }),
  clientRetries: def({
    name: 'ratelab_mock_client_retries_total',
    type: 'counter',
    help: 'Requests marked as retries by the client (X-Stainless-Retry-Count > 0).',
    labelNames: [],
  }),
} as const;

/** Why the limiter refused or gave up on a task; a closed set. */
export const SHED_REASONS = ['queue_full', 'deadline_exceeded', 'deadline_unmeetable', 'cancelled', 'circuit_open', 'budget_exhausted', 'spend_high_only', 'never_fits', 'shutdown'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** How an attempt ended, as the limiter classified it. */
export const ATTEMPT_KINDS = ['ok', 'limit', 'contention', 'server', 'fatal', 'cancelled'] as const;

/** Limiter metrics; `upstream` names the provider account (never its key). */
export const LIMITER_METRICS = {
  tasks: def({
    name: 'ratelab_limiter_tasks_total',
    type: 'counter',
    help: 'Tasks that ended, by outcome: ok, failed (after retries or not retryable), or shed (see sheds).',
    labelNames: ['upstream', 'outcome'],
  }),
  attempts: def({
    name: 'ratelab_limiter_attempts_total',
    type: 'counter',
    help: 'Upstream attempts, by how they ended (ok, limit, contention, server, fatal, cancelled).',
    labelNames: ['upstream', 'kind'],
  }),
  retries: def({ name: 'ratelab_limiter_retries_total', type: 'counter', help: 'Retries scheduled, by the failure that caused them.', labelNames: ['upstream', 'reason'] }),
  sheds: def({ name: 'ratelab_limiter_sheds_total', type: 'counter', help: 'Tasks refused or dropped by the limiter, by reason.', labelNames: ['upstream', 'reason'] }),
  queueDepth: def({ name: 'ratelab_limiter_queue_depth', type: 'gauge', help: 'Tasks waiting, by priority.', labelNames: ['upstream', 'priority'] }),
  waitSeconds: def({
    name: 'ratelab_limiter_queue_wait_seconds',
    type: 'histogram',
    help: 'Time from schedule to the first attempt (client seconds).',
    labelNames: ['upstream'],
    buckets: 'latency',
  }),
  inFlight: def({ name: 'ratelab_limiter_in_flight', type: 'gauge', help: 'Attempts running upstream.', labelNames: ['upstream'] }),
  concurrencyLimit: def({ name: 'ratelab_limiter_concurrency_limit', type: 'gauge', help: 'Current concurrency limit (adaptive or fixed).', labelNames: ['upstream'] }),
  budgetRemaining: def({
    name: 'ratelab_limiter_budget_remaining',
    type: 'gauge',
    help: 'Units the budget would admit now, by dimension (rpm, ipm, tpm).',
    labelNames: ['upstream', 'dimension'],
  }),
  budgetLimit: def({ name: 'ratelab_limiter_budget_limit', type: 'gauge', help: "The provider's limit per window, by dimension (configured or learned).", labelNames: ['upstream', 'dimension'] }),
  cooldownSeconds: def({ name: 'ratelab_limiter_cooldown_seconds', type: 'gauge', help: 'Seconds left of an account-wide pause after a limit 429.', labelNames: ['upstream'] }),
  circuitState: def({ name: 'ratelab_limiter_circuit_state', type: 'gauge', help: 'Circuit breaker: 0 closed, 1 half-open, 2 open.', labelNames: ['upstream'] }),
  spendUsd: def({ name: 'ratelab_limiter_spend_usd', type: 'gauge', help: 'Spend reserved or billed in the current period (USD).', labelNames: ['upstream'] }),
  storeFallback: def({
    name: 'ratelab_limiter_store_fallback',
    type: 'gauge',
    help: 'Shared store (Redis) unreachable: 1 while this replica runs on its local share of the limits, 0 otherwise (always 0 for the memory store).',
    labelNames: ['upstream'],
  }),
  spendBudgetUsd: def({ name: 'ratelab_limiter_spend_budget_usd', type: 'gauge', help: 'Spend budget per period (USD); absent when unset.', labelNames: ['upstream'] }),
} as const;

/** Gateway metrics. */
export const GATEWAY_METRICS = {
  cache: def({
    name: 'ratelab_gateway_cache_total',
    type: 'counter',
    help: 'Image requests by result-cache outcome: hit, coalesced (joined an identical call in flight), miss, bypass.',
    labelNames: ['result'],
  }),
  responses: def({
    name: 'ratelab_gateway_responses_total',
    type: 'counter',
    help: "Answers to clients by route (images, jobs), HTTP status and source: upstream (the provider's answer passed through) or gateway (its own refusals and validation errors).",
    labelNames: ['route', 'status', 'source'],
  }),
  duration: def({
    name: 'ratelab_gateway_request_duration_seconds',
    type: 'histogram',
    help: 'Time from request to the end of the answer, by route.',
    labelNames: ['route'],
    buckets: 'latency',
  }),
  jobs: def({
    name: 'ratelab_gateway_jobs_total',
    type: 'counter',
    help: 'Async job events seen by this gateway: queued, started, deferred, retried, succeeded, failed, cancelled.',
    labelNames: ['event'],
  }),
  jobStoreDurable: def({
    name: 'ratelab_gateway_job_store_durable',
    type: 'gauge',
    help: 'Jobs on Redis: 1 when Redis persists every write (appendonly yes) and never evicts (maxmemory-policy noeviction), 0 when a restart or memory pressure can lose jobs, -1 unknown (CONFIG not allowed, or not connected yet).',
    labelNames: [],
  }),
  sseSubscribers: def({
    name: 'ratelab_gateway_sse_subscribers',
    type: 'gauge',
    help: 'Open server-sent-event streams of job events.',
    labelNames: [],
  }),
  firstImage: def({
    name: 'ratelab_gateway_time_to_first_image_seconds',
    type: 'histogram',
    help: "Time from request to the first image the client could show (a stream's first partial image; else the whole answer), answers with an image, by endpoint and stream.",
    labelNames: ['endpoint', 'stream'],
    buckets: 'latency',
  }),
  tokens: def({
    name: 'ratelab_gateway_tokens_total',
    type: 'counter',
    help: "Tokens the provider's answers said they used (usage), by model and direction (input, output).",
    labelNames: ['model', 'direction'],
  }),
  spend: def({
    name: 'ratelab_gateway_spend_usd_total',
    type: 'counter',
    help: 'USD of the answered images at the catalogue prices (an estimate from the request, not the bill), by model.',
    labelNames: ['model'],
  }),
} as const;

/**
 * Load-test metrics in k6's model (Counter, Gauge, Rate, Trend), recorded by the k6 scripts
 * (which import this file: it has no imports) and by the embedded engine. With k6's
 * Prometheus remote write they become `k6_<name>_total`, `k6_<name>`, `k6_<name>_rate` and
 * `k6_<name>_<stat>`; the engine exports the same names.
 */
export const LOADTEST_METRICS = {
  provider429: { name: 'ratelab_provider_429', type: 'rate', help: "Share of answers that were the provider's 429, passed through." },
  refusals: { name: 'ratelab_gateway_refusals', type: 'rate', help: "Share of answers that were the gateway's own refusals." },
  queueWait: { name: 'ratelab_queue_wait', type: 'trend', isTime: true, help: 'ms the request waited in the gateway before its first attempt (x-ratelab-queue-ms).' },
  attempts: { name: 'ratelab_attempts', type: 'trend', isTime: false, help: 'Upstream attempts per request (x-ratelab-attempts).' },
  upstream429: { name: 'ratelab_upstream_429', type: 'counter', help: 'Answers whose last upstream attempt got 429 (x-ratelab-upstream-status).' },
  timeToFirstImage: {
    name: 'ratelab_time_to_first_image',
    type: 'trend',
    isTime: true,
    help: "ms from the send to the first image a client could show, for answers with an image: a stream's first partial image (or its final one when it came first), else the whole answer.",
  },
} as const;

/** k6's built-in metrics the engine reports, by k6's names and types. */
export const K6_BUILTIN_METRICS = {
  http_reqs: 'counter',
  http_req_duration: 'trend',
  http_req_waiting: 'trend',
  http_req_failed: 'rate',
  iterations: 'counter',
  iteration_duration: 'trend',
  dropped_iterations: 'counter',
  vus: 'gauge',
  vus_max: 'gauge',
  checks: 'rate',
  data_sent: 'counter',
  data_received: 'counter',
} as const;
