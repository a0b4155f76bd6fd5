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

export function refusal(error: LimiterError): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.ceil(error.retryAfterMs));
  }
  return { status: STATUS[error.reason], body: { message: error.message, type: GATEWAY_ERROR_TYPE, param: null, code: error.reason }, headers };
}
