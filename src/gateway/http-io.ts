import type { ServerResponse } from 'node:http';
import type { OpenAIErrorBody } from '../openai/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error }, headers);
}

