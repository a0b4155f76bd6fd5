import type { OpenAIErrorBody } from '../../openai/errors.ts';
import { retryAfterMs } from '../../limiter/classify.ts';
import { GATEWAY_ERROR_TYPE } from '../refusals.ts';
import type { UpstreamAnswer } from '../upstream-call.ts';

/** One run of a job: the answer its call got, and, when every upstream's circuit is open after it, how long until one probes again. */
export type JobRun = UpstreamAnswer & { outageMs?: number };

export type RunOutcome =
  | { kind: 'ok'; result: unknown }
  /**
   * `defer`: the gateway turned the run away (its queue, a deadline, the circuit, the spend
   * budget, a shutdown) or the upstreams are out: the job waits `delayMs` and does not spend
   * an attempt. `retry`: the provider failed it; the next run waits at least `delayMs`.
   */
  | { kind: 'defer' | 'retry'; status: number; error: OpenAIErrorBody; delayMs: number | undefined }
  | { kind: 'fatal'; status: number; error: OpenAIErrorBody };

/** The job ran out of time: never run, or its last run turned away, within jobs.maxWait. */
export function jobDeadlineError(last: OpenAIErrorBody | undefined): OpenAIErrorBody {
  const why = last ? ` Its last run ended: ${last.message}` : ' It never reached the front of the job queue.';
  return {
    message: `The job was not run within its deadline (jobs.maxWait).${why} Raise jobs.maxWait, or add capacity: a higher tier or another upstream.`,
    type: GATEWAY_ERROR_TYPE,
    param: null,
    code: 'job_deadline_exceeded',
  };
}

/**
 * How long a job waits before its next run: after a provider failure (its `attempt`-th), the
 * longer of the provider's retry-after and the doubling `backoffMs`; after a refusal, its
 * retry-after, else `backoffMs`. The same in memory and on Redis.
 */
export function nextRunDelay(outcome: { kind: 'defer' | 'retry'; delayMs: number | undefined }, attempt: number, backoffMs: number): number {
  if (outcome.kind === 'retry') return Math.max(outcome.delayMs ?? 0, backoffMs * 2 ** (attempt - 1));
  return outcome.delayMs ?? backoffMs;
}

/** Gateway refusals that pass with time. `never_fits` (too big for any budget) and `cancelled` do not. */
const DEFERRED_CODES = new Set(['queue_full', 'deadline_exceeded', 'deadline_unmeetable', 'circuit_open', 'budget_exhausted', 'spend_high_only', 'shutdown']);

function errorOf(answer: UpstreamAnswer): OpenAIErrorBody {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: OpenAIErrorBody };
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error;
  } catch {
    // not JSON: described below
  }
  return { message: `The provider answered ${answer.status}.`, type: 'upstream_error', param: null, code: null };
}

/** The answer's retry-after-ms / retry-after, if it has one. */
function hintOf(answer: UpstreamAnswer): number | undefined {
  const headers = answer.headers;
  return retryAfterMs({ get: (name) => headers[name] ?? null }, Date.now());
}

/**
 * What one run of a job means for the job: done; turned away by the gateway or caught in an
 * outage (wait, no attempt spent); failed by the provider (a 429 for a limit or contention,
 * a 5xx, unreachable: another attempt later, after its retry-after); or final (bad request,
 * auth, insufficient_quota, a request no budget can ever admit).
 */
export function runOutcome(answer: JobRun): RunOutcome {
  if (answer.status >= 200 && answer.status < 300) {
    try {
      return { kind: 'ok', result: JSON.parse(answer.body.toString('utf8')) };
    } catch {
      return { kind: 'retry', status: 502, error: { message: 'The provider answered with invalid JSON.', type: 'upstream_error', param: null, code: null }, delayMs: undefined };
    }
  }
  const error = errorOf(answer);
  const code = typeof error.code === 'string' ? error.code : '';
  if (error.type === GATEWAY_ERROR_TYPE && DEFERRED_CODES.has(code)) return { kind: 'defer', status: answer.status, error, delayMs: hintOf(answer) };
  if (code === 'insufficient_quota' || code === 'billing_hard_limit_reached') return { kind: 'fatal', status: answer.status, error };
  const transient = code === 'upstream_unreachable' || answer.status === 429 || answer.status === 408 || answer.status >= 500;
  if (!transient) return { kind: 'fatal', status: answer.status, error };
  // The failure was part of an outage the circuit breakers saw: the job's request is not at fault.
  if (answer.outageMs !== undefined) return { kind: 'defer', status: answer.status, error, delayMs: answer.outageMs };
  return { kind: 'retry', status: answer.status, error, delayMs: hintOf(answer) };
}
