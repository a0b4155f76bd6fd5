import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a client may take: to send its headers, its whole request, and to come back on an idle connection. */
export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

/** The documented defaults of the mock and the gateway: headers within 10 s, the whole request within 30 s. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

/**
 * Node checks headersTimeout and requestTimeout only every `connectionsCheckingInterval`
 * (30 s by default), so a slow client was cut 20–30 s late; checked every half second,
 * a timeout holds within 0.5 s of its value.
 */
const CHECK_EVERY_MS = 500;

const STATUS_OF: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * A node:http server with timeouts that hold, and Node's own parser rejections (bad
 * framing, header overflow, timeouts) answered with a body from `errorBody` — OpenAI's error
 * shape, for the mock and the gateway — where the socket can still take one.
 */
export function createHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  errorBody: (status: number, message: string) => string,
  timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS,
): Server {
  const server = createServer(
    { connectionsCheckingInterval: CHECK_EVERY_MS, headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, keepAliveTimeout: timeouts.keepAliveMs },
    handler,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or a response already under way: nothing more can be said on this socket.
    if (error.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const status = STATUS_OF[error.code ?? ''] ?? 400;
    const message =
      status === 408
        ? `The request was not received in time (headers within ${timeouts.headersMs} ms, the whole request within ${timeouts.requestMs} ms).`
        : status === 431
          ? 'Request header fields too large.'
          : `The request could not be parsed as HTTP/1.1 (${error.code ?? 'malformed'}).`;
    const body = errorBody(status, message);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return server;
}
