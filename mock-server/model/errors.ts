import type { MockResponse, OpenAIErrorBody } from './types.ts';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): MockResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): MockResponse {
  return jsonResponse(status, { error }, headers);
}

/** A 400 the way OpenAI words them. */
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

export const SERVER_ERROR_MESSAGES: Record<number, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  503: 'The engine is currently overloaded, please try again later.',
};

export function serverError(status: number, headers: Record<string, string> = {}): MockResponse {
  return errorResponse(status, { message: SERVER_ERROR_MESSAGES[status] ?? 'Server error.', type: 'server_error', param: null, code: null }, headers);
}

/** The client went away; nobody reads this, but stats count it as nginx does (499). */
export const clientClosed = (): MockResponse => ({ status: 499, headers: {}, body: '' });
