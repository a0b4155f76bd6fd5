import { CATALOGUE, type Catalogue, type CatalogueModel } from './catalogue.ts';
import { FORMAT_NAMES, type Endpoint, type FormatName, type QualityName } from './catalogue-schema.ts';
import { invalid, quoteList, RequestError } from './errors.ts';
import { checkSize, type Dimensions } from './sizes.ts';

export const MAX_PROMPT_CHARS = 32_000;

/** An edit's input images as the validator needs them (dimensions, or assumed ones for URL references). */
export interface EditInputs {
  images: readonly Dimensions[];
  mask: Dimensions | undefined;
  markup: boolean;
}

/** A validated images request: what the mock serves and what the limiter prices. */
export interface ImageRequest {
  endpoint: Endpoint;
  model: string;
  /** The family whose limits a snapshot shares. */
  family: string;
  prompt: string;
  n: number;
  /** Resolved `WxH` (auto resolved). */
  size: string;
  width: number;
  height: number;
  quality: QualityName;
  background: 'transparent' | 'opaque';
  format: FormatName;
  compression: number | undefined;
  moderation: 'low' | 'auto';
  /** The effective one: a non-empty `safety_identifier`, else the deprecated `user`. */
  safetyIdentifier: string | undefined;
  stream: boolean;
  partialImages: number;
  inputFidelity: 'high' | 'low' | undefined;
  /** An edit's input images (empty for generations). */
  inputImages: readonly Dimensions[];
  hasMask: boolean;
  frameCount: number | undefined;
}

export interface ValidationContext {
  endpoint: Endpoint;
  catalogue?: Catalogue;
  /** Models accepted; default every catalogue model (retired ones are answered as retired). */
  models?: readonly string[];
  /**
   * `full`: as OpenAI checks (unknown fields refused). `cost`: only what the limiter prices
   * (model, n, size, quality, stream, input images) — unknown fields and other values go
   * to the provider, which is the judge of them (the gateway's `validation: forward`).
   */
  mode?: 'full' | 'cost';
  /** Project access to the gated formats (gif, svg). Default none. */
  access?: { gif?: boolean; svg?: boolean };
}

const COMMON = ['model', 'prompt', 'n', 'size', 'quality', 'background', 'output_format', 'output_compression', 'moderation', 'stream', 'partial_images', 'user', 'safety_identifier', 'response_format', 'style', 'complexity', 'frame_count', 'frame_duration_ms', 'svg'];
const KNOWN: Record<Endpoint, Set<string>> = {
  generations: new Set(COMMON),
  edits: new Set([...COMMON, 'image', 'images', 'mask', 'markup', 'input_fidelity']),
};

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

export function invalidType(param: string, expected: string, value: unknown): RequestError {
  return invalid(`Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`, param, 'invalid_type');
}

const given = (v: unknown): boolean => v !== undefined && v !== null;

function enumField<T extends string>(body: Record<string, unknown>, param: string, allowed: readonly T[], fallback: T, model?: string): T {
  const value = body[param];
  if (!given(value)) return fallback;
  if (typeof value !== 'string') throw invalidType(param, 'one of ' + allowed.join(', '), value);
  if (!(allowed as readonly string[]).includes(value)) {
    const forModel = model ? ` for ${model}` : '';
    throw invalid(`Invalid value: '${value.slice(0, 100)}'. Supported values${forModel} are: ${quoteList(allowed)}.`, param, 'invalid_value');
  }
  return value as T;
}

function intField(body: Record<string, unknown>, param: string, min: number, max: number): number | undefined {
  const value = body[param];
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(param, 'an integer', value);
  if (value < min) throw invalid(`Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`, param, 'integer_below_min_value');
  if (value > max) throw invalid(`Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`, param, 'integer_above_max_value');
  return value;
}

function stringField(body: Record<string, unknown>, param: string): string | undefined {
  const value = body[param];
  if (!given(value)) return undefined;
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  return value;
}

/** OpenAI's answer for a model that was shut down (as it answers for every deprecated model). */
export function retiredModel(model: CatalogueModel): RequestError {
  const status = model.status;
  const since = status.state === 'retired' ? ` on ${status.since}` : '';
  const use = status.state === 'retired' ? ` Use ${status.use} instead.` : '';
  return new RequestError(404, {
    message: `The model \`${model.id}\` has been shut down${since}.${use} Learn more: https://platform.openai.com/docs/deprecations`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
}

function resolveModel(b: Record<string, unknown>, ctx: ValidationContext, catalogue: Catalogue): CatalogueModel {
  const served = ctx.models ?? catalogue.ids();
  const id = b.model ?? catalogue.defaultModel;
  if (typeof id !== 'string') throw invalidType('model', 'a string', id);
  const model = catalogue.get(id);
  if (model?.status.state === 'retired') throw retiredModel(model);
  if (!model || !served.includes(id)) {
    const offered = served.filter((m) => catalogue.get(m)?.status.state !== 'retired');
    throw invalid(`Invalid value: '${id.slice(0, 100)}'. Supported values are: ${quoteList(offered)}.`, 'model', 'invalid_value');
  }
  if (!model.endpoints.includes(ctx.endpoint)) {
    throw invalid(`The model '${id}' does not support the /v1/images/${ctx.endpoint} endpoint.`, 'model', 'unsupported_model');
  }
  return model;
}

function checkPrompt(b: Record<string, unknown>): string {
  const prompt = b.prompt;
  if (!given(prompt)) throw invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  if (typeof prompt !== 'string') throw invalidType('prompt', 'a string', prompt);
  if (prompt.length === 0) throw invalid("Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.", 'prompt', 'empty_string');
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw invalid(`Invalid 'prompt': string too long. Expected a string with maximum length ${MAX_PROMPT_CHARS}, but got a string with length ${prompt.length} instead.`, 'prompt', 'string_above_max_length');
  }
  return prompt;
}

/** A gated format the project has no access to: refused as OpenAI refuses features a project lacks. */
function noAccess(format: string, model: string): RequestError {
  return new RequestError(403, {
    message: `Your project does not have access to output_format '${format}' on ${model}. Request access to the ${format} preview, or use 'png', 'jpeg' or 'webp'.`,
    type: 'invalid_request_error',
    param: 'output_format',
    code: 'unsupported_value',
  });
}

/**
 * Checks an images request per model from the catalogue, one error at a time, with
 * OpenAI's `param` and `code`. `fields` is a JSON body, or a multipart form's fields with
 * numbers and booleans read back from text; `inputs` are an edit's images. Hand-written
 * rather than zod: the point is OpenAI's exact messages and codes, which a schema
 * library's error map would only re-translate.
 */
export function validateImageFields(fields: Record<string, unknown>, ctx: ValidationContext, inputs?: EditInputs): ImageRequest {
  const catalogue = ctx.catalogue ?? CATALOGUE;
  const full = (ctx.mode ?? 'full') === 'full';
  const b = fields;
  if (full) {
    const known = KNOWN[ctx.endpoint];
    for (const key of Object.keys(b)) {
      if (!known.has(key)) throw invalid(`Unrecognized request argument supplied: ${key.slice(0, 100)}`, key.slice(0, 100), 'unknown_parameter');
    }
  }
  const model = resolveModel(b, ctx, catalogue);
  const id = model.id;
  const prompt = full ? checkPrompt(b) : typeof b.prompt === 'string' ? b.prompt : '';
  const n = intField(b, 'n', 1, 10) ?? 1;
  const sizeValue = b.size;
  if (given(sizeValue) && typeof sizeValue !== 'string') throw invalidType('size', 'a string', sizeValue);
  const dims = checkSize((sizeValue as string | undefined) ?? 'auto', id, model.sizes);
  if (dims instanceof RequestError) throw dims;
  const quality = enumField(b, 'quality', [...model.qualities, 'auto'], 'auto', id);
  if (given(b.stream) && typeof b.stream !== 'boolean') throw invalidType('stream', 'a boolean', b.stream);
  const stream = b.stream === true;
  const partialImages = intField(b, 'partial_images', 0, 3) ?? 0;
  const inputFidelity = enumField(b, 'input_fidelity', ['high', 'low'] as const, 'low');
  const request: ImageRequest = {
    endpoint: ctx.endpoint,
    model: id,
    family: model.family,
    prompt,
    n,
    size: `${dims.width}x${dims.height}`,
    width: dims.width,
    height: dims.height,
    quality: quality === 'auto' ? 'medium' : quality,
    background: 'opaque',
    format: 'png',
    compression: undefined,
    moderation: 'auto',
    safetyIdentifier: undefined,
    stream,
    partialImages,
    inputFidelity: given(b.input_fidelity) ? inputFidelity : undefined,
    inputImages: inputs?.images ?? [],
    hasMask: inputs?.mask !== undefined,
    frameCount: undefined,
  };
  if (!full) {
    // What a gateway must know to relay: a stream of a format that cannot stream is refused here.
    const format = typeof b.output_format === 'string' ? b.output_format : undefined;
    if (stream && (format === 'svg' || format === 'gif')) throw invalid(`Streaming is not supported with output_format '${format}'.`, 'stream', 'unsupported_parameter');
    // Not checked against the model, but said as asked (a trace line names it), when it is a format at all.
    if (format !== undefined && (FORMAT_NAMES as readonly string[]).includes(format)) request.format = format as FormatName;
    return request;
  }
  return checkTheRest(b, ctx, model, request, inputs);
}

function checkTheRest(b: Record<string, unknown>, ctx: ValidationContext, model: CatalogueModel, r: ImageRequest, inputs: EditInputs | undefined): ImageRequest {
  const id = model.id;
  if (given(b.response_format)) throw invalid(`Unknown parameter: 'response_format'. GPT image models always return base64-encoded images.`, 'response_format', 'unknown_parameter');
  if (given(b.style)) throw invalid(`'style' is only supported for dall-e-3.`, 'style', 'unsupported_parameter');
  const backgrounds = model.transparentBackground === 'no' ? (['opaque', 'auto'] as const) : (['transparent', 'opaque', 'auto'] as const);
  const background = enumField(b, 'background', backgrounds, 'auto', id);
  const format = enumField(b, 'output_format', model.formats, 'png', id);
  const moderation = enumField(b, 'moderation', ['low', 'auto'] as const, 'auto');
  const compression = intField(b, 'output_compression', 0, 100);
  if (given(b.complexity)) {
    if (!model.complexity) throw invalid(`'complexity' is not supported for ${id}.`, 'complexity', 'unsupported_parameter');
    enumField(b, 'complexity', ['low', 'medium', 'high'] as const, 'medium');
  }
  if (background === 'transparent' && format === 'jpeg') {
    throw invalid("Transparent background is not supported for output_format 'jpeg'. Use 'png' or 'webp'.", 'background', 'invalid_value');
  }
  if (compression !== undefined && format !== 'jpeg' && format !== 'webp') {
    throw invalid("'output_compression' is only supported for output_format 'jpeg' and 'webp'.", 'output_compression', 'invalid_value');
  }
  if (r.stream && !model.maxPartialImages && given(b.partial_images)) throw invalid(`Streaming partial images is not supported for ${id}.`, 'partial_images', 'unsupported_parameter');
  if (r.partialImages > model.maxPartialImages) throw invalid(`Invalid 'partial_images': ${id} sends at most ${model.maxPartialImages}.`, 'partial_images', 'integer_above_max_value');
  const frameCount = intField(b, 'frame_count', 2, 16);
  intField(b, 'frame_duration_ms', 0, 655_350);
  if (format === 'gif' || format === 'svg') {
    if (r.stream) throw invalid(`Streaming is not supported with output_format '${format}'.`, 'stream', 'unsupported_parameter');
    if (given(b.partial_images) && r.partialImages > 0) throw invalid(`'partial_images' is not supported with output_format '${format}'.`, 'partial_images', 'unsupported_parameter');
    if (r.hasMask) throw invalid(`A mask is not supported with output_format '${format}'.`, 'mask', 'unsupported_parameter');
  }
  if (format === 'svg' && r.n !== 1) throw invalid("output_format 'svg' requires n = 1.", 'n', 'invalid_value');
  if (format !== 'gif' && (frameCount !== undefined || given(b.frame_duration_ms))) {
    throw invalid("'frame_count' and 'frame_duration_ms' are only supported with output_format 'gif'.", given(b.frame_count) ? 'frame_count' : 'frame_duration_ms', 'unsupported_parameter');
  }
  if (given(b.svg) && format !== 'svg') throw invalid("'svg' is only supported with output_format 'svg'.", 'svg', 'unsupported_parameter');
  if (given(b.svg) && (typeof b.svg !== 'object' || Array.isArray(b.svg))) throw invalidType('svg', 'an object', b.svg);
  // A request that is wrong whatever the project's access is refused for that first.
  if (model.gatedFormats.includes(format) && !ctx.access?.[format as 'gif' | 'svg']) throw noAccess(format, id);
  const user = stringField(b, 'user');
  const safety = stringField(b, 'safety_identifier');
  if (r.endpoint === 'edits') checkEditFields(b, model, r, inputs);
  return {
    ...r,
    background: background === 'transparent' ? 'transparent' : 'opaque',
    format,
    compression,
    moderation,
    safetyIdentifier: safety || user || undefined,
    frameCount: format === 'gif' ? (frameCount ?? 9) : undefined,
  };
}

function checkEditFields(b: Record<string, unknown>, model: CatalogueModel, r: ImageRequest, inputs: EditInputs | undefined): void {
  const id = model.id;
  if (given(b.input_fidelity)) {
    if (model.inputFidelity.length === 0) throw invalid(`'input_fidelity' is not supported for ${id}; omit it.`, 'input_fidelity', 'unsupported_parameter');
    enumField(b, 'input_fidelity', model.inputFidelity, 'low', id);
  }
  if (inputs?.markup) {
    if (!model.markup) throw invalid(`'markup' is not supported for ${id}.`, 'markup', 'unsupported_parameter');
    if (r.hasMask) throw invalid("'markup' cannot be combined with 'mask'.", 'markup', 'invalid_value');
  }
  if (r.inputImages.length === 0) throw invalid("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
}

/** Reads a JSON request body, or the 400 OpenAI gives for a body it cannot read. */
/** One decoder for every body: without `stream`, each decode stands alone (and a fatal one throws on bad UTF-8). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonBody(contentType: string | undefined, raw: Uint8Array): Record<string, unknown> {
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw invalid(`Invalid Content-Type header (${contentType ?? 'none'}), expected application/json.`, null, null);
  }
  let body: unknown;
  try {
    body = JSON.parse(UTF8.decode(raw));
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
  return body as Record<string, unknown>;
}

/** A JSON generations request, read and checked (the common case: one call). */
export function validateImageRequest(contentType: string | undefined, raw: Uint8Array, ctx: Omit<ValidationContext, 'endpoint'> = {}): ImageRequest {
  return validateImageFields(parseJsonBody(contentType, raw), { ...ctx, endpoint: 'generations' });
}
