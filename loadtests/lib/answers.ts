/**
 * What one load-test iteration sends and how its answer is read: shared by the k6 scripts
 * and the embedded engine (no runtime APIs, no imports but loadtests' own), so both count the same things.
 */
import { classFields, DEFAULT_MIX, MIXES } from '../mixes.ts';

/** The model load tests ask for unless told (`MODEL` for k6; the profile's default model in the CLI and the sim). */
export const DEFAULT_LOADTEST_MODEL = 'gpt-image-1.5';

/** The request of the `single` mix (what runs send unless given a mix): the cheapest image, so load is about rates, not bytes. */
export function imageRequestFields(vu: number, iteration: number, model: string = DEFAULT_LOADTEST_MODEL): Record<string, unknown> {
  return classFields(MIXES[DEFAULT_MIX]!.classes[0]!, vu, iteration, model);
}

/** `imageRequestFields` as the JSON body on the wire. */
export function imageRequestBody(vu: number, iteration: number, model: string = DEFAULT_LOADTEST_MODEL): string {
  return JSON.stringify(imageRequestFields(vu, iteration, model));
}

/**
 * The two checks every iteration makes: whether it got an image (a refusal is not one), and
 * whether it got an answer a client can act on (an image, or an error in OpenAI's shape).
 */
export const CHECKS = { image: 'an image', clear: 'an image or a clear error' } as const;

/** k6's default: 200–399 is an expected response; a refusal or a 429 is a failed request. */
export const isExpectedStatus = (status: number): boolean => status >= 200 && status < 400;

/** The gateway's own refusals carry this error type (src/gateway/refusals.ts). */
export const GATEWAY_ERROR_TYPE = 'ratelab_gateway_error';

export interface AnswerFacts {
  status: number;
  /** `error.type` of an error body, if any. */
  errorType: string | undefined;
  /** `error.code` of an error body, if any: a gateway refusal's reason (`deadline_unmeetable`, `queue_full`, ...). */
  errorCode?: string | undefined;
  /** `x-ratelab-upstream-status`: the provider's status on the last attempt. */
  upstreamStatus: number | undefined;
  /** A stream that answered 200 but ended in an error event instead of its image (`streamErrorOf`). */
  streamError?: ErrorFacts | undefined;
}

export interface AnswerClass {
  ok: boolean;
  /** The provider said 429 and the client got it (the limiter failed to prevent it). */
  provider429: boolean;
  /** The gateway refused: queue full, deadline, circuit open, budget, shutdown. */
  refusal: boolean;
  /** Why the gateway refused (its `error.code`), when it did. */
  reason: string | undefined;
  /** Any terminal answer a client can act on: an image, or an error in OpenAI's shape. */
  clear: boolean;
}

export function classifyAnswer(a: AnswerFacts): AnswerClass {
  // HTTP said 200 before the image was made: a stream that ends in an error event brought none.
  const ok = a.status === 200 && a.streamError === undefined;
  const refusal = a.status !== 200 && a.errorType === GATEWAY_ERROR_TYPE;
  const provider429 = a.status === 429 && !refusal;
  return { ok, provider429, refusal, reason: refusal ? (a.errorCode ?? 'unknown') : undefined, clear: ok || a.errorType !== undefined || a.streamError?.errorType !== undefined };
}

/**
 * The error of a 200 stream that ended in OpenAI's `error` event without its `completed`
 * one (an output moderation block, a provider stream cut short); undefined for every other
 * answer. A JSON body never holds `event: error`, so any 200 may be asked.
 */
export function streamErrorOf(text: string): ErrorFacts | undefined {
  const at = text.indexOf('event: error\n');
  if (at < 0 || /event: image_(generation|edit)\.completed\n/.test(text)) return undefined;
  const data = /^data: (.*)$/m.exec(text.slice(at))?.[1];
  try {
    return errorFactsOf((JSON.parse(data ?? '') as { error?: { type?: unknown; code?: unknown } }).error);
  } catch {
    return errorFactsOf(undefined);
  }
}

export interface ErrorFacts {
  errorType: string | undefined;
  errorCode: string | undefined;
}

const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `type` and `code` of an OpenAI error object, where they are strings. */
export function errorFactsOf(error: { type?: unknown; code?: unknown } | undefined): ErrorFacts {
  return { errorType: textOf(error?.type), errorCode: textOf(error?.code) };
}

/** Reads `error.type` and `error.code` from a JSON error body without throwing. */
export function errorOf(body: string | null | undefined): ErrorFacts {
  if (!body) return errorFactsOf(undefined);
  try {
    return errorFactsOf((JSON.parse(body) as { error?: { type?: unknown; code?: unknown } }).error);
  } catch {
    return errorFactsOf(undefined);
  }
}
