import { z } from 'zod';
import { PRIORITY_NAMES } from '../limiter/types.ts';

/** A trace file's rotation unless configured: 100 MiB a file, 5 rotated files kept. */
export const TRACE_DEFAULTS = { maxBytes: 100 * 1024 * 1024, keep: 5 } as const;

/** The trace format's version: a reader refuses lines of another. */
export const TRACE_VERSION = 1;

const count = z.number().int().min(0);
const ms = z.number().min(0);
const text = z.string();

/**
 * The `x-ratelimit-*` headers the provider sent with the answer, as seen (limits and what
 * remained as numbers, resets as the provider's duration strings, e.g. "6m0s"); null when
 * the answer carried none (a gateway refusal, an unreachable provider).
 */
const rateLimitSchema = z
  .object({
    limitRequests: count.nullable(),
    remainingRequests: count.nullable(),
    resetRequests: text.nullable(),
    limitTokens: count.nullable(),
    remainingTokens: count.nullable(),
    resetTokens: text.nullable(),
  })
  .strict();

/**
 * One request through the gateway, as `--trace <file>` writes it: one JSON object per line.
 * What a calibration and a replay need — when it came, who sent it, its class (endpoint,
 * model, quality, size, n, format, stream, input images), what came back and where its time
 * went — and never a prompt, an image or a key. A request the gateway could not read (bad
 * JSON, an unknown model) has null class fields.
 */
export const traceLineSchema = z
  .object({
    v: z.literal(TRACE_VERSION),
    at: z.iso.datetime().describe('When the gateway had the request, ISO 8601 (wall clock, as run: a time-scaled run\'s trace is scaled).'),
    timeScale: z.number().positive().describe('The gateway\'s time scale: every time and duration of the line is as run; divided by it, production time.'),
    client: text.describe('The gateway client\'s name (never its key).'),
    priority: z.enum(PRIORITY_NAMES).optional().describe('The client\'s priority, what the request waited at in the gateway\'s queue (absent in lines of gateways before it was written: normal).'),
    endpoint: z.enum(['generations', 'edits']),
    model: text.nullable(),
    quality: text.nullable(),
    size: text.nullable().describe('Resolved `WxH`.'),
    n: count.nullable(),
    format: text.nullable(),
    stream: z.boolean().nullable(),
    partialImages: count.nullable(),
    inputImages: count.nullable().describe('An edit\'s reference images (0 for generations).'),
    inputImageSizes: z.array(text).nullable().describe('Each reference image\'s `WxH`, as the gateway read it (what its input tokens are priced from).'),
    mask: z.boolean().nullable(),
    requestBytes: count.describe('The request body\'s bytes as it arrived (an edit\'s form with its images).'),
    status: z.number().int().min(0).describe('The status the client got; 0 when it left before any answer.'),
    completed: z.boolean().describe('The answer reached its last byte; false when the client left during it (a stream cut short, say).'),
    source: z.enum(['upstream', 'gateway']).describe('Who answered: the provider (passed on), or the gateway itself (a refusal, a bad request).'),
    upstream: text.nullable(),
    upstreamStatus: z.number().int().nullable().describe('The provider\'s status on the last attempt.'),
    errorType: text.nullable(),
    errorCode: text.nullable(),
    latencyMs: ms.describe('From arrival to the answer\'s last byte.'),
    firstImageMs: ms.nullable().describe('To the first image the client could show: a stream\'s first partial (or final) image; else the whole answer; null without an image.'),
    queueMs: ms.nullable(),
    attempts: count.nullable(),
    usage: z
      .object({
        inputTokens: count,
        outputTokens: count,
        inputImageTokens: count.optional().describe('Of the input tokens, the reference images\' (`input_tokens_details.image_tokens`): what calibrate fits the per-image token model to. Absent when the provider did not split them.'),
      })
      .strict()
      .nullable(),
    rateLimit: rateLimitSchema.nullable(),
  })
  .strict();

export type TraceLine = z.output<typeof traceLineSchema>;

/** The published JSON Schema of a trace line (schemas/trace-line.schema.json is this, checked in tests). */
export function traceLineJsonSchema(): Record<string, unknown> {
  return {
    title: 'ratelab gateway trace line',
    ...z.toJSONSchema(traceLineSchema, { target: 'draft-2020-12' }),
  };
}
