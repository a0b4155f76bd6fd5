import type { OpenAIErrorBody } from '../openai/errors.ts';
import type { ShedReason } from '../metrics/catalogue.ts';
import type { LimiterError } from '../limiter/errors.ts';

/**
 * The gateway's own refusals, in OpenAI's error shape with a `type` no provider uses, so a
 * client can tell "the gateway shed this" from "the provider said 429". Statuses follow
 * what a client should do: 429 slow down, 503 come back later, 504 took too long, 402/429
 * for money.
 */
const STATUS: Record<ShedReason, number> = {
  queue_full: 429,
  deadline_exceeded: 504,
  deadline_unmeetable: 429,
  cancelled: 499,
  circuit_open: 503,
  budget_exhausted: 429,
  spend_high_only: 429,
  never_fits: 400,
  shutdown: 503,
};

export const GATEWAY_ERROR_TYPE = 'ratelab_gateway_error';

/**
 * What each refusal means to the client's operator: why it happened, and which setting or
 * capacity would change it (the SDK raises RateLimitError for a provider 429 and for
 * these alike; `error.type` and `error.code` tell them apart, the message says what to do).
 */
const WHY: Record<ShedReason, string> = {
  queue_full: "the gateway's queue for this upstream is full (limiter queue.maxSize). Retry after retry-after, raise queue.maxSize, or add capacity: a higher tier or another upstream",
  deadline_exceeded: 'the request waited its whole deadline (limiter queue.maxWait) without its turn. Retry later, raise queue.maxWait, or add capacity: a higher tier or another upstream',
  deadline_unmeetable:
    "the requests ahead of it use the account's limits past this request's deadline (limiter queue.maxWait), so it was refused now rather than later. Retry after retry-after, raise queue.maxWait, send it at a higher priority, or add capacity: a higher tier or another upstream",
  cancelled: 'the client went away or cancelled the request',
  circuit_open: "the upstream failed repeatedly and its circuit is open (limiter circuit.openFor). Retry after retry-after; the gateway probes the upstream and closes the circuit when it answers again",
  budget_exhausted: "this period's spend budget is used (limiter spend.budget). Retry after the period turns (retry-after), or raise spend.budget",
  spend_high_only: 'the spend budget is nearly used (limiter spend.highOnlyAt): only high and critical priority is admitted. Send it as a higher-priority client, or raise spend.budget',
  never_fits: "the request costs more than the limiter's budgets can ever admit at once (budgets.*.burst, or the limit itself). Ask for fewer, smaller or lower-quality images, or raise the burst",
  shutdown: 'this gateway replica is shutting down. Retry: another replica, or this one after its restart, will take it',
};

export function refusal(error: LimiterError): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.ceil(error.retryAfterMs));
  }
  return { status: STATUS[error.reason], body: { message: `${error.message}: ${WHY[error.reason]}.`, type: GATEWAY_ERROR_TYPE, param: null, code: error.reason }, headers };
}
