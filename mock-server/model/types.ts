import type { MockReason } from '../../src/metrics/catalogue.ts';
import type { OpenAIErrorBody } from '../../src/openai/errors.ts';

/** What an adapter (msw or node:http) hands the model, and what it gets back. */
export interface MockRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/images/generations`. */
  path: string;
  /** Query string without `?`. */
  query?: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  /**
   * A multipart body, unread: adapters hand multipart/form-data over as a stream so
   * uploads are parsed as they arrive (then `body` is empty).
   */
  bodyStream?: AsyncIterable<Uint8Array>;
  /** The adapter stopped buffering because the body passed `maxBodyBytes`. */
  bodyTooLarge?: boolean;
  /** The request came from this machine (admin routes are loopback-only). */
  loopback: boolean;
  /** Aborts when the client goes away. */
  signal?: AbortSignal;
  /** Told why the request ended as it did (the reason its metrics count), e.g. for the adapter's span. */
  onOutcome?: (reason: MockReason) => void;
}

export interface MockResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The error `body` carries, for callers on our side of the wire (the simulator) that would otherwise parse it back. */
  error?: OpenAIErrorBody;
  /** Server-sent events, written as they come (then `body` is empty); ends when the answer is complete. */
  stream?: AsyncIterable<string>;
  /** Drop the connection (ECONNRESET) instead of answering. */
  reset?: boolean;
}

export type { OpenAIErrorBody } from '../../src/openai/errors.ts';
