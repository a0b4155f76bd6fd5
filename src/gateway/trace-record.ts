import { errorOf } from '../../loadtests/lib/answers.ts';
import type { Endpoint } from '../openai/catalogue-schema.ts';
import type { OpenAIErrorBody } from '../openai/errors.ts';
import type { ImageRequest } from '../openai/request.ts';
import type { AnswerUsage } from '../openai/stream-events.ts';
import type { PriorityName } from '../limiter/limiter.ts';
import { TRACE_VERSION, type TraceLine } from './trace-line.ts';

/** What the gateway knows of one answered request, gathered as it goes. */
export interface TraceFacts {
  arrivedAt: number;
  endedAt: number;
  timeScale: number;
  client: string;
  /** The client's priority: what its requests waited at. */
  priority: PriorityName;
  endpoint: Endpoint;
  /** Absent when the request was refused before it was read (bad body, unknown model, quota). */
  image?: ImageRequest;
  requestBytes: number;
  /** The status the client got; 0 when it left before any answer. */
  status: number;
  /** The answer reached its last byte (false: the client left during it). */
  completed: boolean;
  source: 'upstream' | 'gateway';
  /** The headers the client got: the provider's passed ones and the gateway's timing. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The error the client got, when the gateway sent it; else read from `body`. */
  error?: OpenAIErrorBody;
  body?: Buffer;
  usage?: AnswerUsage | undefined;
  /** A stream's first image event. */
  firstImageAt?: number;
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
};
const int = (v: string | undefined): number | null => {
  const n = num(v);
  return n === null ? null : Math.round(n);
};

function rateLimitOf(h: TraceFacts['headers']): TraceLine['rateLimit'] {
  const r = {
    limitRequests: int(h['x-ratelimit-limit-requests']),
    remainingRequests: int(h['x-ratelimit-remaining-requests']),
    resetRequests: h['x-ratelimit-reset-requests'] ?? null,
    limitTokens: int(h['x-ratelimit-limit-tokens']),
    remainingTokens: int(h['x-ratelimit-remaining-tokens']),
    resetTokens: h['x-ratelimit-reset-tokens'] ?? null,
  };
  return Object.values(r).every((v) => v === null) ? null : r;
}

/** The trace line of one request: its class, what came back and where its time went; never its prompt, images or key. */
export function traceLine(f: TraceFacts): TraceLine {
  const img = f.image;
  const ok = f.status === 200 && f.completed;
  const error = ok ? undefined : f.error ? { errorType: f.error.type ?? undefined, errorCode: f.error.code ?? undefined } : errorOf(f.body?.toString('utf8'));
  const latencyMs = Math.max(0, f.endedAt - f.arrivedAt);
  const imageTokens = f.usage?.input_tokens_details?.image_tokens;
  const usage =
    f.usage && (f.usage.input_tokens !== undefined || f.usage.output_tokens !== undefined)
      ? { inputTokens: f.usage.input_tokens ?? 0, outputTokens: f.usage.output_tokens ?? 0, ...(imageTokens !== undefined ? { inputImageTokens: imageTokens } : {}) }
      : null;
  return {
    v: TRACE_VERSION,
    at: new Date(f.arrivedAt).toISOString(),
    timeScale: f.timeScale,
    client: f.client,
    priority: f.priority,
    endpoint: f.endpoint,
    model: img?.model ?? null,
    quality: img?.quality ?? null,
    size: img?.size ?? null,
    n: img?.n ?? null,
    format: img?.format ?? null,
    stream: img?.stream ?? null,
    partialImages: img ? img.partialImages : null,
    inputImages: img ? img.inputImages.length : null,
    inputImageSizes: img ? img.inputImages.map((d) => `${d.width}x${d.height}`) : null,
    mask: img ? img.hasMask : null,
    requestBytes: f.requestBytes,
    status: f.status,
    completed: f.completed,
    source: f.source,
    upstream: f.headers['x-ratelab-upstream'] ?? null,
    upstreamStatus: int(f.headers['x-ratelab-upstream-status']),
    errorType: error?.errorType ?? null,
    errorCode: error?.errorCode ?? null,
    latencyMs,
    firstImageMs: ok ? Math.max(0, (f.firstImageAt ?? f.endedAt) - f.arrivedAt) : null,
    queueMs: num(f.headers['x-ratelab-queue-ms']),
    attempts: int(f.headers['x-ratelab-attempts']),
    usage,
    rateLimit: rateLimitOf(f.headers),
  };
}
