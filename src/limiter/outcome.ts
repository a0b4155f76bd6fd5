/**
 * What the limiter needs from a finished attempt, read from whatever the task returned or
 * threw: a fetch `Response`, an `openai` SDK result or `APIError`, a `.withResponse()`
 * pair, a `ReadAnswer`, or a network error. Small adapters, so tasks stay plain async calls.
 */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

export interface Observed {
  /** HTTP status, or undefined when no response came back (reset, timeout, DNS). */
  status: number | undefined;
  headers: HeaderSource | undefined;
  /** OpenAI's error.code / error.type when the body or SDK error carries them. */
  code: string | undefined;
  type: string | undefined;
  message: string | undefined;
  /** `usage` of a successful image response, for reconciling the token reservation. */
  outputTokens: number | undefined;
  inputTokens: number | undefined;
  /** The call failed locally (timeout, reset, refused): no HTTP status. */
  networkError: boolean;
  /** The caller aborted. */
  aborted: boolean;
}

/** OpenAI's `error` object, as far as the limiter reads it. */
export interface AnswerError {
  code?: string | null;
  type?: string;
  message?: string;
}

/**
 * An HTTP answer the task has already read: status, headers (names in lower case), the
 * error body in OpenAI's shape and the usage of a success. For a caller that holds the
 * answer parsed (its own HTTP client, or the simulator, where both ends are ours), so the
 * limiter classifies it without a WHATWG Response being built, cloned and read back.
 * `body` is the caller's: the limiter never reads it.
 */
export class ReadAnswer<B = undefined> {
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly error?: AnswerError,
    readonly usage?: { input_tokens?: number; output_tokens?: number },
    readonly body?: B,
  ) {}
}

interface HasHeaders {
  status?: unknown;
  headers?: unknown;
  code?: unknown;
  type?: unknown;
  error?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function headerSource(h: unknown): HeaderSource | undefined {
  if (!isRecord(h)) return undefined;
  if (typeof h.get === 'function') return h as unknown as HeaderSource;
  return { get: (name) => (h[name.toLowerCase()] as string | undefined) ?? null };
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** True when a value tells the limiter nothing beyond "it worked" (no status, no usage). */
export function isPlainSuccess(value: unknown): boolean {
  if (!isRecord(value)) return true;
  return !(value instanceof Response) && !(value instanceof ReadAnswer) && !('response' in value) && !('usage' in value);
}

/** Reads a successful return value: a Response (any status), a ReadAnswer, `{ data, response }`, or an SDK result. */
export function observeValue(value: unknown): Observed {
  const observed: Observed = { status: 200, headers: undefined, code: undefined, type: undefined, message: undefined, outputTokens: undefined, inputTokens: undefined, networkError: false, aborted: false };
  if (!isRecord(value)) return observed;
  if (value instanceof ReadAnswer) return observeRead(observed, value);
  if (value instanceof Response) {
    observed.status = value.status;
    observed.headers = value.headers;
    return observed;
  }
  const pair = value.response instanceof Response;
  if (pair) {
    observed.status = (value.response as Response).status;
    observed.headers = (value.response as Response).headers;
  }
  const source = pair ? value.data : value;
  if (isRecord(source) && isRecord(source.usage)) {
    const u = source.usage;
    if (typeof u.output_tokens === 'number') observed.outputTokens = u.output_tokens;
    if (typeof u.input_tokens === 'number') observed.inputTokens = u.input_tokens;
  }
  return observed;
}

function observeRead(observed: Observed, answer: ReadAnswer<unknown>): Observed {
  observed.status = answer.status;
  observed.headers = headerSource(answer.headers);
  const e = answer.error;
  if (e) {
    if (typeof e.code === 'string') observed.code = e.code;
    observed.type = e.type;
    observed.message = e.message;
  }
  observed.outputTokens = answer.usage?.output_tokens;
  observed.inputTokens = answer.usage?.input_tokens;
  return observed;
}

/** Reads a thrown error: an SDK APIError (status, headers, code, type) or a network failure. */
export function observeError(error: unknown): Observed {
  const e = (isRecord(error) ? error : {}) as HasHeaders;
  const name = typeof e.name === 'string' ? e.name : '';
  const aborted = name === 'AbortError' || name === 'APIUserAbortError';
  const status = typeof e.status === 'number' ? e.status : undefined;
  const inner = isRecord(e.error) ? e.error : undefined;
  const cause = isRecord(e.cause) ? e.cause : undefined;
  const errno = (typeof e.code === 'string' && NETWORK_CODES.has(e.code) ? e.code : undefined) ?? (typeof cause?.code === 'string' ? cause.code : undefined);
  const timeout = name === 'APIConnectionTimeoutError' || name === 'TimeoutError';
  return {
    status,
    headers: headerSource(e.headers),
    code: typeof e.code === 'string' && !NETWORK_CODES.has(e.code) ? e.code : typeof inner?.code === 'string' ? inner.code : undefined,
    type: typeof e.type === 'string' ? e.type : typeof inner?.type === 'string' ? inner.type : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
    outputTokens: undefined,
    inputTokens: undefined,
    networkError: !aborted && status === undefined && (timeout || errno !== undefined || name === 'APIConnectionError' || name === 'TypeError'),
    aborted,
  };
}

/** A fetch Response that failed carries OpenAI's error code/type/message in its body, still unread. */
export const needsErrorBody = (observed: Observed, value: unknown): value is Response => observed.status !== undefined && observed.status >= 400 && typeof Response !== 'undefined' && value instanceof Response;

/** For a fetch Response that failed, OpenAI's error code/type/message are in the body: read a clone. */
export async function withErrorBody(observed: Observed, value: unknown): Promise<Observed> {
  if (!(typeof Response !== 'undefined' && value instanceof Response) || value.status < 400 || value.bodyUsed) return observed;
  try {
    const body = (await value.clone().json()) as { error?: { code?: unknown; type?: unknown; message?: unknown } };
    const e = body.error ?? {};
    return {
      ...observed,
      code: typeof e.code === 'string' ? e.code : observed.code,
      type: typeof e.type === 'string' ? e.type : observed.type,
      message: typeof e.message === 'string' ? e.message : observed.message,
    };
  } catch {
    return observed;
  }
}
