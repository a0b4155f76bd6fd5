import type { ModelFacts } from './catalogue-schema.ts';
import { invalid, quoteList, type RequestError } from './errors.ts';

export interface Dimensions {
  width: number;
  height: number;
}

const WXH = /^(\d{1,5})x(\d{1,5})$/;

/**
 * Sizes already parsed: every request's size is parsed by the mock, the limiter's request
 * class and the latency model, and a regular expression each time was 2 % of a simulation.
 */
const PARSED = new Map<string, Readonly<Dimensions> | undefined>();
const PARSED_MAX = 1024;

export function parseWxH(size: string): Readonly<Dimensions> | undefined {
  // Longer than 99999x99999 never matches: not worth a place in the cache.
  if (size.length > 11) return undefined;
  let dims = PARSED.get(size);
  if (dims === undefined && !PARSED.has(size)) {
    const m = WXH.exec(size);
    dims = m ? Object.freeze({ width: Number(m[1]), height: Number(m[2]) }) : undefined;
    // Free-form sizes are unbounded: forget them all now and then rather than grow.
    if (PARSED.size >= PARSED_MAX) PARSED.clear();
    PARSED.set(size, dims);
  }
  return dims;
}

/**
 * Checks `size` against a model's sizes: its fixed list and `auto`, or, where the model
 * allows free-form sizes, any `WxH` within the rule. Returns the dimensions it resolves
 * to, or the 400 OpenAI gives, naming `size`.
 */
export function checkSize(size: string, model: string, sizes: ModelFacts['sizes']): Readonly<Dimensions> | RequestError {
  if (size === 'auto' && sizes.auto) return parseWxH(sizes.autoResolvesTo)!;
  if (sizes.fixed.includes(size)) return parseWxH(size)!;
  const supported = [...sizes.fixed, ...(sizes.auto ? ['auto'] : [])];
  const dims = parseWxH(size);
  const rule = sizes.freeForm;
  if (!rule || !dims) {
    const more = rule ? `, or WIDTHxHEIGHT with both sides divisible by ${rule.multipleOf}` : '';
    return invalid(`Invalid value: '${size.slice(0, 100)}'. Supported values for ${model} are: ${quoteList(supported)}${more}.`, 'size', 'invalid_value');
  }
  const { width, height } = dims;
  const bad = (why: string) => invalid(`Invalid size '${size}' for ${model}: ${why}.`, 'size', 'invalid_value');
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (short === 0 || long / short > rule.maxRatio) return bad(`the aspect ratio must be between 1:${rule.maxRatio} and ${rule.maxRatio}:1`);
  if (long > rule.maxLongEdge || short > rule.maxShortEdge) return bad(`the maximum supported resolution is ${rule.maxLongEdge}x${rule.maxShortEdge}`);
  if (width % rule.multipleOf !== 0 || height % rule.multipleOf !== 0) return bad(`width and height must both be divisible by ${rule.multipleOf}`);
  const pixels = width * height;
  if (pixels < rule.minPixels || pixels > rule.maxPixels) return bad(`the total pixels must be between ${rule.minPixels} and ${rule.maxPixels}`);
  return dims;
}

const STANDARD = new Set(['1024x1024', '1536x1024', '1024x1536']);

/**
 * A bounded label for a size, for metrics: the standard sizes as they are, free-form
 * sizes by megapixels (a label per WxH would grow without bound).
 */
export function sizeLabel(width: number, height: number): string {
  const key = `${width}x${height}`;
  if (STANDARD.has(key)) return key;
  const mp = (width * height) / 1_048_576;
  return mp <= 1 ? 'custom-1mp' : mp <= 2 ? 'custom-2mp' : mp <= 4 ? 'custom-4mp' : 'custom-8mp';
}

export const SIZE_LABELS = [...STANDARD, 'custom-1mp', 'custom-2mp', 'custom-4mp', 'custom-8mp'] as const;
