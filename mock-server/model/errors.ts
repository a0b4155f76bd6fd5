import type { OpenAIErrorBody } from '../../src/openai/errors.ts';
import type { MockResponse } from './types.ts';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): MockResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): MockResponse {
  return { ...jsonResponse(status, { error }, headers), error };
}

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
