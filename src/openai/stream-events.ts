import type { Endpoint } from './catalogue-schema.ts';

/** The fields every partial and completed event echoes (SDK 7 `ImageGenPartialImageEvent` and friends). */
export interface StreamEcho {
  background: 'transparent' | 'opaque' | 'auto';
  output_format: string;
  quality: string;
  size: string;
  created_at: number;
}

export interface StreamUsage {
  input_tokens: number;
  input_tokens_details: { image_tokens: number; text_tokens: number };
  output_tokens: number;
  total_tokens: number;
}

/** An answer's `usage` as the gateway reads it (a JSON body's tail, or a stream's completed event): every field may be missing. */
export interface AnswerUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { image_tokens?: number; text_tokens?: number };
}

/** `image_generation.*` for generations, `image_edit.*` for edits. */
export const eventPrefix = (endpoint: Endpoint): string => (endpoint === 'edits' ? 'image_edit' : 'image_generation');

/** The type of an event that carries an image, a partial or the final one (`image_generation.partial_image`, `image_edit.completed`): what a client can show first. */
export const IMAGE_EVENT_TYPE = /^image_(generation|edit)\.(partial_image|completed)$/;

/** The same event found in a stream's text by its `event:` line. */
export const IMAGE_EVENT = /event: image_(generation|edit)\.(partial_image|completed)/;

/**
 * One server-sent event, spliced as text: the base64 image needs no JSON escaping, and
 * JSON.stringify over a large image string costs more than the rest of the event.
 */
function sse(type: string, b64: string, fields: Record<string, unknown>): string {
  const rest = JSON.stringify(fields).slice(1, -1);
  return `event: ${type}\ndata: {"type":"${type}","b64_json":"${b64}",${rest}}\n\n`;
}

export function partialImageEvent(endpoint: Endpoint, b64: string, index: number, echo: StreamEcho): string {
  return sse(`${eventPrefix(endpoint)}.partial_image`, b64, { ...echo, partial_image_index: index });
}

export function completedEvent(endpoint: Endpoint, b64: string, echo: StreamEcho, usage: StreamUsage, safetyIdentifier: string | undefined): string {
  return sse(`${eventPrefix(endpoint)}.completed`, b64, { ...echo, usage, ...(safetyIdentifier ? { safety_identifier: safetyIdentifier } : {}) });
}

/** An error inside a stream that has already answered 200 (e.g. an output-stage moderation block). */
export function errorEvent(error: Record<string, unknown>): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error })}\n\n`;
}
