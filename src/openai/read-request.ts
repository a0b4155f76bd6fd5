import type { Readable } from 'node:stream';
import type { Endpoint } from './catalogue-schema.ts';
import { checkEditFiles, jsonEditInputs, OPENAI_UPLOAD_LIMITS, type UploadLimits } from './edit-inputs.ts';
import { invalid, RequestError } from './errors.ts';
import { parseMultipart } from './multipart.ts';
import { parseJsonBody, validateImageFields, type ImageRequest, type ValidationContext } from './request.ts';

export interface RequestBody {
  contentType: string | undefined;
  /** A JSON body, read whole. */
  bytes?: Uint8Array;
  /** A multipart body, as it arrives (a Node stream is piped, which is faster than iterating it). */
  stream?: AsyncIterable<Uint8Array> | Readable;
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
    // Files are checked in every mode: their count, types and sizes are the API's stable
    // facts, they price the request, and a gateway should not spool what the provider refuses.
    return validateImageFields(form.fields, vctx, checkEditFiles(form.files, uploads));
  }
  if (endpoint === 'edits' && body.stream) throw invalid(`Invalid Content-Type header (${body.contentType ?? 'none'}), expected multipart/form-data or application/json.`, null, null);
  const fields = parseJsonBody(body.contentType, body.bytes ?? new Uint8Array());
  if (endpoint === 'generations') return validateImageFields(fields, vctx);
  const inputs = jsonEditInputs(fields, uploads);
  return validateImageFields(fields, vctx, inputs);
}

export { RequestError };
