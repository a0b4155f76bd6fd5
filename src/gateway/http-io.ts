import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenAIErrorBody } from '../core/openai-errors.ts';

/** Buffers a body up to `max` bytes; beyond it keeps reading and dropping, and says so. */
export function readBody(req: IncomingMessage, max: number): Promise<{ bytes: Buffer; tooLarge: boolean } | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), tooLarge: size > max }));
    req.on('error', () => resolve(undefined));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error }, headers);
}
