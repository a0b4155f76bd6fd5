import { imageSize } from 'image-size';
import { invalid, RequestError } from './errors.ts';
import type { EditInputs } from './request.ts';
import type { Dimensions } from './sizes.ts';

/** OpenAI's upload limits for edits (SDK 7: up to 16 images, png/webp/jpg, < 50 MB each; mask PNG < 4 MB). */
export interface UploadLimits {
  maxImages: number;
  maxImageBytes: number;
  maxMaskBytes: number;
}

export const OPENAI_UPLOAD_LIMITS: UploadLimits = { maxImages: 16, maxImageBytes: 50 * 1024 * 1024, maxMaskBytes: 4 * 1024 * 1024 };

/** One uploaded file as far as anyone here needs it: its size, and its type and dimensions from its first bytes. */
export interface InputFile {
  field: string;
  filename: string;
  bytes: number;
  /** Detected from the content (png, jpg, webp, ...), not from the declared type; undefined if not an image. */
  type: string | undefined;
  width: number | undefined;
  height: number | undefined;
}

const IMAGE_TYPES = new Set(['png', 'jpg', 'webp']);
const MB = 1024 * 1024;

/** Type and dimensions from a file's head (image-size reads them from the header; no decoding). */
export function sniffImage(head: Uint8Array): { type: string | undefined; width: number | undefined; height: number | undefined } {
  try {
    const info = imageSize(head);
    return { type: info.type, width: info.width, height: info.height };
  } catch {
    return { type: undefined, width: undefined, height: undefined };
  }
}

const unsupported = (param: string, file: InputFile) =>
  invalid(
    `Invalid file '${param}': unsupported mimetype ('${file.type ? `image/${file.type}` : 'application/octet-stream'}'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.`,
    param,
    'invalid_image_format',
  );

/**
 * Checks an edit's uploaded files as OpenAI does: 1–16 images (`image` or `image[]`),
 * each png/webp/jpeg under 50 MB; an optional PNG `mask` under 4 MB with the first
 * image's dimensions; an optional `markup` PNG.
 */
export function checkEditFiles(files: readonly InputFile[], limits: UploadLimits = OPENAI_UPLOAD_LIMITS): EditInputs {
  const images = files.filter((f) => f.field === 'image' || f.field === 'image[]');
  const masks = files.filter((f) => f.field === 'mask');
  const markups = files.filter((f) => f.field === 'markup');
  const other = files.find((f) => !['image', 'image[]', 'mask', 'markup'].includes(f.field));
  if (other) throw invalid(`Unrecognized file field supplied: ${other.field.slice(0, 100)}`, other.field.slice(0, 100), 'unknown_parameter');
  if (images.length === 0) throw invalid("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
  if (images.length > limits.maxImages) {
    throw invalid(`Invalid 'image': array too long. Expected an array with maximum length ${limits.maxImages}, but got an array with length ${images.length} instead.`, 'image', 'array_above_max_length');
  }
  for (const image of images) {
    if (image.bytes >= limits.maxImageBytes) {
      throw invalid(`Invalid file 'image': '${image.filename}' is ${(image.bytes / MB).toFixed(1)} MB; each image must be smaller than ${limits.maxImageBytes / MB} MB.`, 'image', 'image_too_large');
    }
    if (!image.type || !IMAGE_TYPES.has(image.type) || image.width === undefined) throw unsupported('image', image);
  }
  if (masks.length > 1 || markups.length > 1) throw invalid(`Invalid '${masks.length > 1 ? 'mask' : 'markup'}': expected one file.`, masks.length > 1 ? 'mask' : 'markup', 'invalid_value');
  const first = images[0]!;
  let mask: Dimensions | undefined;
  const m = masks[0];
  if (m) {
    if (m.bytes >= limits.maxMaskBytes) throw invalid(`Invalid file 'mask': it is ${(m.bytes / MB).toFixed(1)} MB; the mask must be smaller than ${limits.maxMaskBytes / MB} MB.`, 'mask', 'image_too_large');
    if (m.type !== 'png' || m.width === undefined || m.height === undefined) throw invalid("Invalid file 'mask': the mask must be a PNG image.", 'mask', 'invalid_image_format');
    if (m.width !== first.width || m.height !== first.height) {
      throw invalid(`Invalid 'mask': the mask must have the same dimensions as the first image (${first.width}x${first.height}), got ${m.width}x${m.height}.`, 'mask', 'invalid_mask_dimensions');
    }
    mask = { width: m.width, height: m.height };
  }
  const markup = markups[0];
  if (markup && (markup.type !== 'png' || markup.width !== first.width || markup.height !== first.height)) {
    throw invalid(`Invalid 'markup': a transparent PNG with the first image's dimensions (${first.width}x${first.height}) is required.`, 'markup', 'invalid_value');
  }
  return { images: images.map((i) => ({ width: i.width!, height: i.height! })), mask, markup: markup !== undefined };
}

const ASSUMED: Dimensions = { width: 1024, height: 1024 };
const DATA_URL = /^data:image\/(png|jpeg|jpg|webp);base64,/i;

function refDimensions(ref: unknown, param: string): Dimensions {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
    throw invalid(`Invalid type for '${param}': expected an object with 'image_url' or 'file_id'.`, param, 'invalid_type');
  }
  const { image_url: url, file_id: fileId, ...rest } = ref as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalid(`Unrecognized request argument supplied: ${param}.${extra.slice(0, 100)}`, `${param}.${extra.slice(0, 100)}`, 'unknown_parameter');
  if ((url === undefined) === (fileId === undefined)) throw invalid(`Invalid '${param}': provide exactly one of 'image_url' or 'file_id'.`, param, 'invalid_value');
  if (fileId !== undefined) {
    if (typeof fileId !== 'string' || fileId.length === 0) throw invalid(`Invalid type for '${param}.file_id': expected a string.`, `${param}.file_id`, 'invalid_type');
    return ASSUMED;
  }
  if (typeof url !== 'string' || url.length === 0) throw invalid(`Invalid type for '${param}.image_url': expected a string.`, `${param}.image_url`, 'invalid_type');
  const data = DATA_URL.exec(url);
  if (!data) {
    if (!/^https?:\/\//i.test(url)) throw invalid(`Invalid '${param}.image_url': expected an https URL or a base64 data URL of a png, jpeg or webp image.`, `${param}.image_url`, 'invalid_value');
    // Nothing here fetches a URL: its image is priced as a 1024x1024 one.
    return ASSUMED;
  }
  // The header is in the first few KB; decode only those.
  const head = Buffer.from(url.slice(data[0].length, data[0].length + 262_144), 'base64');
  const sniffed = sniffImage(head);
  if (!sniffed.type || !IMAGE_TYPES.has(sniffed.type) || sniffed.width === undefined) {
    throw invalid(`Invalid '${param}.image_url': the data URL does not hold a png, jpeg or webp image.`, `${param}.image_url`, 'invalid_image_format');
  }
  return { width: sniffed.width, height: sniffed.height! };
}

/** The JSON form of edits: `images: [{ image_url | file_id }]` and an optional `mask` reference. */
export function jsonEditInputs(body: Record<string, unknown>, limits: UploadLimits = OPENAI_UPLOAD_LIMITS): EditInputs {
  const refs = body.images;
  if (refs === undefined || refs === null) throw invalid("Missing required parameter: 'images'.", 'images', 'missing_required_parameter');
  if (!Array.isArray(refs)) throw invalid("Invalid type for 'images': expected an array of image references.", 'images', 'invalid_type');
  if (refs.length === 0) throw invalid("Invalid 'images': empty array. Expected an array with minimum length 1.", 'images', 'empty_array');
  if (refs.length > limits.maxImages) {
    throw invalid(`Invalid 'images': array too long. Expected an array with maximum length ${limits.maxImages}, but got an array with length ${refs.length} instead.`, 'images', 'array_above_max_length');
  }
  const images = refs.map((ref, i) => refDimensions(ref, `images[${i}]`));
  const mask = body.mask === undefined || body.mask === null ? undefined : refDimensions(body.mask, 'mask');
  return { images, mask, markup: false };
}

export { RequestError };
