import type { OpenAIErrorBody } from '../../openai/errors.ts';
import type { UpstreamAnswer } from '../upstream-call.ts';

export type RunOutcome =
  | { kind: 'ok'; result: unknown }
  | { kind: 'retry' | 'fatal'; status: number; error: OpenAIErrorBody };

/** Gateway refusals that a later run may get past; the others (money, size) will not change. */
const RETRYABLE_CODES = new Set(['queue_full', 'deadline_exceeded', 'deadline_unmeetable', 'circuit_open', 'shutdown', 'upstream_unreachable']);

function errorOf(answer: UpstreamAnswer): OpenAIErrorBody {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: OpenAIErrorBody };
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error;
  } catch {
    // not JSON: described below
  }
  return { message: `The provider answered ${answer.status}.`, type: 'upstream_error', param: null, code: null };
}

/**
 * What one run of a job means for the job: done, worth another run later (provider 429 for
 * a limit or contention, 5xx, the gateway's transient refusals), or final (bad request,
 * auth, insufficient_quota, spend budget).
 */
export function runOutcome(answer: UpstreamAnswer): RunOutcome {
  if (answer.status >= 200 && answer.status < 300) {
    try {
      return { kind: 'ok', result: JSON.parse(answer.body.toString('utf8')) };
    } catch {
      return { kind: 'retry', status: 502, error: { message: 'The provider answered with invalid JSON.', type: 'upstream_error', param: null, code: null } };
    }
  }
  const error = errorOf(answer);
  const code = typeof error.code === 'string' ? error.code : '';
  if (code === 'insufficient_quota' || code === 'billing_hard_limit_reached') return { kind: 'fatal', status: answer.status, error };
  if (RETRYABLE_CODES.has(code) || answer.status === 429 || answer.status === 408 || answer.status >= 500) return { kind: 'retry', status: answer.status, error };
  return { kind: 'fatal', status: answer.status, error };
}
