import type { IncomingMessage } from 'node:http';

/**
 * Buffers a request body up to `max` bytes; past that it keeps reading and dropping, so the
 * client still gets its 413 instead of a reset. Undefined when the client aborted mid-body.
 */
export function readBody(req: IncomingMessage, max: number): Promise<{ bytes: Buffer; tooLarge: boolean } | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), tooLarge: size > max }));
    req.on('error', () => resolve(undefined));
    req.on('aborted', () => resolve(undefined));
  });
}
