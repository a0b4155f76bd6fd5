/** OpenAI's error body, `{"error": {...}}`, and the 400s its images API answers. */
export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  /** On `moderation_blocked` (seen relayed in public threads; not documented). */
  moderation_details?: { moderation_stage: 'input' | 'output'; categories: string[] };
}

/** A refusal the way OpenAI words it: status and body. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
  ) {
    super(body.message);
  }
}

export const invalid = (message: string, param: string | null, code: string | null): RequestError =>
  new RequestError(400, { message, type: 'invalid_request_error', param, code });

export const quoteList = (values: readonly (string | number)[]): string => {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}` : quoted.join('');
};

/** The body for an answer the HTTP layer gives before any route runs (bad framing, 408, 431). */
export function protocolErrorBody(status: number, message: string): string {
  const code = status === 408 ? 'request_timeout' : status === 431 ? 'headers_too_large' : 'invalid_http';
  return JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
}
