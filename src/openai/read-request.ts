import type { Endpoint } from './catalogue-schema.ts';
import { checkEditFiles, jsonEditInputs, OPENAI_UPLOAD_LIMITS, type UploadLimits } from './edit-inputs.ts';
import { invalid, RequestError } from './errors.ts';
import { parseMultipart } from './multipart.ts';
import { parseJsonBody, validateImageFields, type ImageRequest, type ValidationContext } from './request.ts';

export interface RequestBody {
  contentType: string | undefined;
  /** A JSON body, read whole. */
  bytes?: Uint8Array;
  /** A multipart body, as it arrives. */
  stream?: AsyncIterable<Uint8Array>;
}

export const isMultipart = (contentType: string | undefined): boolean => /^multipart\/form-data/i.test(contentType ?? '');

/** Largest multipart body: every image at its limit, the mask, and room for fields. */
export const maxUploadBytes = (u: UploadLimits): number => u.maxImages * u.maxImageBytes + 2 * u.maxMaskBytes + 16 * 1024 * 1024;

/**
 * Reads and checks one images request as OpenAI does: generations as JSON; edits as
 * multipart/form-data (files parsed as they stream) or as JSON with `images` references.
 * Throws the RequestError OpenAI would answer with.
 */
export async function readImageRequest(body: RequestBody, endpoint: Endpoint, ctx: Omit<ValidationContext, 'endpoint'>, uploads: UploadLimits = OPENAI_UPLOAD_LIMITS): Promise<ImageRequest> {
  const vctx: ValidationContext = { ...ctx, endpoint };
  if (endpoint === 'edits' && isMultipart(body.contentType)) {
    if (!body.stream) throw invalid('Expected a multipart body.', null, 'invalid_multipart');
    const form = await parseMultipart(body.contentType!, body.stream, { maxFiles: uploads.maxImages + 8, maxFieldBytes: 1024 * 1024, maxTotalBytes: maxUploadBytes(uploads) });
    const inputs = ctx.mode === 'cost' ? costInputs(form.files) : checkEditFiles(form.files, uploads);
    return validateImageFields(form.fields, vctx, inputs);
  }
  if (endpoint === 'edits' && body.stream) throw invalid(`Invalid Content-Type header (${body.contentType ?? 'none'}), expected multipart/form-data or application/json.`, null, null);
  const fields = parseJsonBody(body.contentType, body.bytes ?? new Uint8Array());
  if (endpoint === 'generations') return validateImageFields(fields, vctx);
  const inputs = jsonEditInputs(fields, uploads);
  return validateImageFields(fields, vctx, inputs);
}

/**
 * Under `validation: forward` the gateway prices input images without judging them (the
 * provider does): every image file counts, at its dimensions when they can be read.
 */
function costInputs(files: { field: string; width: number | undefined; height: number | undefined }[]) {
  const images = files.filter((f) => f.field === 'image' || f.field === 'image[]').map((f) => ({ width: f.width ?? 1024, height: f.height ?? 1024 }));
  return { images, mask: files.some((f) => f.field === 'mask') ? images[0] : undefined, markup: files.some((f) => f.field === 'markup') };
}

export { RequestError };
