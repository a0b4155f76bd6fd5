import type { Context } from '@opentelemetry/api';
import type { OpenAIErrorBody } from '../openai/errors.ts';
import { LimiterError } from '../limiter/errors.ts';
import type { Execution } from '../limiter/limiter.ts';
import { ReadAnswer } from '../limiter/outcome.ts';
import type { Catalogue } from '../openai/catalogue.ts';
import { costInputOf, imageCost } from '../openai/cost.ts';
import type { ImageRequest } from '../openai/request.ts';
import type { GatewayClient } from './clients.ts';
import type { JobInput } from './jobs/types.ts';
import { Redactor } from './redact.ts';
import type { UpstreamBody } from './request-input.ts';
import type { StreamRelay } from './stream-relay.ts';
import { GATEWAY_ERROR_TYPE, refusal } from './refusals.ts';
import { readAnswerToClient, toAnswer, upstreamCall, type UpstreamAnswer } from './upstream-call.ts';
import type { Upstreams } from './upstreams.ts';

/** An answer for the client, with headers saying where the time went, and whose answer it is. */
export type Answer = UpstreamAnswer & { timing: Record<string, string>; source: 'upstream' | 'gateway' };

export function errorAnswer(status: number, error: OpenAIErrorBody, headers: Record<string, string>, timing: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify({ error })), timing, source: 'gateway' };
}

const UNREACHABLE: OpenAIErrorBody = { message: 'The provider could not be reached.', type: GATEWAY_ERROR_TYPE, param: null, code: 'upstream_unreachable' };

/** The headers saying where an execution's time went: upstream, queue time, attempts, the provider's last status. */
export function executionTiming(execution: Execution<unknown>, upstream: string): Record<string, string> {
  return {
    'x-ratelab-upstream': upstream,
    'x-ratelab-queue-ms': String(Math.round(execution.queueMs)),
    'x-ratelab-attempts': String(execution.attempts),
    ...(execution.lastStatus === undefined ? {} : { 'x-ratelab-upstream-status': String(execution.lastStatus) }),
  };
}

/** The gateway's own error for an execution with no provider answer to pass on (refused, or unreachable); undefined when there is one. */
export function gatewayError(execution: Execution<unknown>): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } | undefined {
  if (execution.error instanceof LimiterError) return refusal(execution.error);
  const value = execution.value;
  if (!(value instanceof ReadAnswer) && !(value instanceof Response)) return { status: 502, body: UNREACHABLE, headers: {} };
  return undefined;
}

/** The gateway's own answer for an execution with no provider answer to pass on (refused, or unreachable); undefined when there is one. */
export function gatewayAnswer(execution: Execution<unknown>, timing: Record<string, string>): Answer | undefined {
  const own = gatewayError(execution);
  return own && errorAnswer(own.status, own.body, own.headers, timing);
}

/**
 * What the client gets for one limiter execution: the provider's answer (a Response, or a
 * ReadAnswer whose body is the answer's text or bytes), or the gateway's refusal in OpenAI's
 * shape, with headers saying where the time went. The simulator reads the same
 * `executionTiming` and `gatewayAnswer`, so a simulated client sees what a real one does.
 */
export async function executionAnswer(execution: Execution<unknown>, upstream: string, redactor: Redactor = NO_SECRETS): Promise<Answer> {
  const timing = executionTiming(execution, upstream);
  const own = gatewayAnswer(execution, timing);
  if (own) return own;
  const value = execution.value;
  if (value instanceof ReadAnswer) return { ...readAnswerToClient(value as ReadAnswer<string | Buffer>, redactor), timing, source: 'upstream' };
  return { ...(await toAnswer(value as Response, redactor)), timing, source: 'upstream' };
}

/** Removes key-shaped strings only: for callers that hold no secrets (the simulator). */
export const NO_SECRETS = new Redactor([]);

/** One request as the call path needs it: what it asks (priced), who asks, and the body to send. */
export interface CallInput {
  image: ImageRequest;
  client: GatewayClient;
  upstream: UpstreamBody;
  /** For `stream: true`: relays the provider's events to the client as they come. */
  relay?: StreamRelay;
  /** Epoch ms by which the call must have started (an async job's); default the limiter's queue.maxWait. */
  deadline?: number;
  /** The span the limiter's spans go under (the request's, or the job run's), when traced. */
  traceContext?: Context | undefined;
}

/** An async job's run: a JSON generations request, kept as the client sent it. */
export const jobCall = (input: JobInput, deadline: number, traceContext?: Context): CallInput => ({
  image: input.image,
  client: input.client,
  upstream: { endpoint: 'generations', contentType: 'application/json', bytes: Buffer.from(input.body) },
  deadline,
  traceContext,
});

/**
 * One images request through the limiters: to the upstream with the most headroom, and on
 * to the next when that one's circuit is open (or opens on this request's failures) or it
 * cannot be reached. The last upstream's answer is the client's. Provider answers
 * pass through; the gateway's refusals are in OpenAI's shape. Used by the sync endpoint and
 * by every run of an async job.
 */
export function imageCall(upstreams: Upstreams, catalogue: Catalogue, redactor: Redactor) {
  return async (input: CallInput, signal: AbortSignal): Promise<Answer> => {
    const costInput = costInputOf(input.image);
    const candidates = upstreams.route(imageCost(costInput, catalogue));
    let answer: Answer | undefined;
    for (const upstream of candidates) {
      // The limiter's clock is monotonic: carry the epoch deadline over as time left.
      const deadline = input.deadline === undefined ? undefined : upstream.limiter.now() + (input.deadline - Date.now());
      const execution = await upstream.limiter.execute(upstreamCall(upstream, input.upstream, input.relay, input.traceContext), { cost: costInput, priority: input.client.priority, signal, deadline, ...(input.traceContext ? { traceContext: input.traceContext } : {}) });
      answer = await executionAnswer(execution, upstream.name, redactor);
      // A relayed stream is the client's answer, whatever the limiter made of it.
      if (input.relay?.started) return { ...answer, streamed: true };
      if (execution.error instanceof LimiterError) {
        if (execution.error.reason === 'circuit_open' && !signal.aborted) continue;
        return answer;
      }
      if (answer.source === 'gateway') {
        // Unreachable: another upstream may answer.
        if (!signal.aborted) continue;
        return answer;
      }
      // The provider failed and that opened its circuit: the next upstream may do better.
      const opened = answer.status >= 500 && upstream.limiter.circuitState() === 'open';
      if (opened && !signal.aborted) continue;
      return answer;
    }
    return answer!;
  };
}
