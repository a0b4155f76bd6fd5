import {
  BACKGROUNDS,
  FORMATS,
  MAX_PROMPT_CHARS,
  QUALITIES,
  SIZES,
  type Background,
  type OutputFormat,
  type Quality,
  type Size,
} from './images-api.ts';
import { invalid, quoteList, RequestError } from './openai-errors.ts';

export interface ImageRequest {
  model: string;
  prompt: string;
  n: number;
  size: Size;
  quality: Quality;
  background: Background;
  format: OutputFormat;
  compression: number | undefined;
  moderation: 'low' | 'auto';
  user: string | undefined;
}

const KNOWN = new Set([
  'model',
  'prompt',
  'n',
  'size',
  'quality',
  'background',
  'output_format',
  'output_compression',
  'moderation',
  'stream',
  'partial_images',
  'user',
  'response_format',
  'style',
]);

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

function invalidType(param: string, expected: string, value: unknown): RequestError {
  return invalid(`Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`, param, 'invalid_type');
}

function enumField<T extends string>(body: Record<string, unknown>, param: string, allowed: readonly T[], fallback: T): T {
  const value = body[param];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw invalidType(param, 'one of ' + allowed.join(', '), value);
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(`Invalid value: '${value.slice(0, 100)}'. Supported values are: ${quoteList(allowed)}.`, param, 'invalid_value');
  }
  return value as T;
}

function intField(body: Record<string, unknown>, param: string, min: number, max: number, fallback: number | undefined): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(param, 'an integer', value);
  if (value < min) throw invalid(`Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`, param, 'integer_below_min_value');
  if (value > max) throw invalid(`Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`, param, 'integer_above_max_value');
  return value;
}

/**
 * Checks a generations request as OpenAI does for GPT image models, one error at a time,
 * with OpenAI's `param` and `code`. Hand-written rather than zod: the point is OpenAI's
 * exact messages and codes, which a schema library's error map would only re-translate.
 */
export function validateImageRequest(contentType: string | undefined, raw: Uint8Array, models: readonly string[]): ImageRequest {
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw invalid(`Invalid Content-Type header (${contentType ?? 'none'}), expected application/json.`, null, null);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw invalid(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      null,
      null,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(`Invalid type for request body: expected an object, but got ${typeName(body)} instead.`, null, 'invalid_type');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!KNOWN.has(key)) throw invalid(`Unrecognized request argument supplied: ${key.slice(0, 100)}`, key.slice(0, 100), 'unknown_parameter');
  }

  const model = b.model ?? models[0];
  if (typeof model !== 'string') throw invalidType('model', 'a string', model);
  if (!models.includes(model)) throw invalid(`Invalid value: '${model.slice(0, 100)}'. Supported values are: ${quoteList(models)}.`, 'model', 'invalid_value');
  if (b.response_format !== undefined && b.response_format !== null) {
    throw invalid(`Unknown parameter: 'response_format'. GPT image models always return base64-encoded images.`, 'response_format', 'unknown_parameter');
  }
  if (b.style !== undefined && b.style !== null) throw invalid(`'style' is only supported for dall-e-3.`, 'style', 'unsupported_parameter');

  const prompt = b.prompt;
  if (prompt === undefined || prompt === null) throw invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  if (typeof prompt !== 'string') throw invalidType('prompt', 'a string', prompt);
  if (prompt.length === 0) throw invalid("Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.", 'prompt', 'empty_string');
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw invalid(
      `Invalid 'prompt': string too long. Expected a string with maximum length ${MAX_PROMPT_CHARS}, but got a string with length ${prompt.length} instead.`,
      'prompt',
      'string_above_max_length',
    );
  }

  const n = intField(b, 'n', 1, 10, 1)!;
  const size = enumField(b, 'size', [...SIZES, 'auto'], 'auto');
  const quality = enumField(b, 'quality', [...QUALITIES, 'auto'], 'auto');
  const background = enumField(b, 'background', [...BACKGROUNDS, 'auto'], 'auto');
  const format = enumField(b, 'output_format', FORMATS, 'png');
  const moderation = enumField(b, 'moderation', ['low', 'auto'] as const, 'auto');
  const compression = intField(b, 'output_compression', 0, 100, undefined);

  if (background === 'transparent' && format === 'jpeg') {
    throw invalid("Transparent background is not supported for output_format 'jpeg'. Use 'png' or 'webp'.", 'background', 'invalid_value');
  }
  if (compression !== undefined && format === 'png') {
    throw invalid("'output_compression' is only supported for output_format 'jpeg' and 'webp'.", 'output_compression', 'invalid_value');
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw invalidType('stream', 'a boolean', b.stream);
  if (b.stream === true) throw invalid('Streaming partial images is not supported by the ratelab mock yet; send stream: false.', 'stream', 'unsupported_value');
  intField(b, 'partial_images', 0, 3, undefined);
  if (b.user !== undefined && b.user !== null && typeof b.user !== 'string') throw invalidType('user', 'a string', b.user);

  return {
    model,
    prompt,
    n,
    size: size === 'auto' ? '1024x1024' : size,
    quality: quality === 'auto' ? 'medium' : quality,
    background: background === 'auto' ? 'opaque' : background,
    format,
    compression,
    moderation,
    user: typeof b.user === 'string' ? b.user : undefined,
  };
}
