import type { ServerResponse } from 'node:http';
import type { OpenAIErrorBody } from '../openai/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The error each response was answered with by the gateway itself, for its trace line. */
export const sentErrors = new WeakMap<ServerResponse, OpenAIErrorBody>();

export function sendError(res: ServerResponse, status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  sentErrors.set(res, error);
  sendJson(res, status, { error }, headers);
}

