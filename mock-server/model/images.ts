import type { FormatName } from '../../src/openai/catalogue-schema.ts';

/**
 * Real, decodable images of the requested size and format, made once per
 * size × format × transparency and cached as base64 (sharp encodes png/jpeg/webp/gif;
 * writing those encoders by hand would be unwise). A horizontal gradient keeps them small.
 * Free-form sizes make the key space unbounded, so the cache keeps the most recent
 * `MAX_CACHED` renders, shared by every model in the process (images do not depend on the profile).
 */
const MAX_CACHED = 64;
const cache = new Map<string, Promise<string>>();

/** A 1×1 PNG: what a store of placeholders answers for every size and format. */
const PLACEHOLDER = Promise.resolve('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==');

/**
 * `rendered` (default): images of the size and format asked. `placeholder`: one 1×1 PNG for
 * every request, for callers that never read an image (the simulator): nothing is rendered
 * and sharp is never loaded, which spares a process ~0.7 s of start-up.
 */
export type ImageMode = 'rendered' | 'placeholder';

export class ImageStore {
  constructor(private readonly mode: ImageMode = 'rendered') {}

  get(width: number, height: number, format: FormatName, transparent: boolean): Promise<string> {
    if (this.mode === 'placeholder') return PLACEHOLDER;
    const key = `${width}x${height}/${format}/${transparent}`;
    let image = cache.get(key);
    if (image) {
      // Map order is insertion order: re-inserting makes it the most recent.
      cache.delete(key);
    } else {
      image = render(width, height, format, transparent);
    }
    cache.set(key, image);
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
    return image;
  }

  /** Renders the standard sizes up front, so the first requests do not pay for encoding. */
  async warm(): Promise<void> {
    if (this.mode === 'placeholder') return;
    const jobs: Promise<string>[] = [];
    for (const [w, h] of [[1024, 1024], [1536, 1024], [1024, 1536]] as const) {
      for (const format of ['png', 'jpeg', 'webp'] as const) jobs.push(this.get(w, h, format, false));
      jobs.push(this.get(w, h, 'png', true), this.get(w, h, 'webp', true));
    }
    await Promise.all(jobs);
  }
}

function svg(width: number, height: number, transparent: boolean): string {
  const fill = transparent ? ' fill-opacity="0.8"' : '';
  const doc = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#285adc"/><stop offset="1" stop-color="#dc5a3c"/></linearGradient></defs><rect width="${width}" height="${height}" fill="url(#g)"${fill}/></svg>`;
  return Buffer.from(doc).toString('base64');
}

async function render(width: number, height: number, format: FormatName, transparent: boolean): Promise<string> {
  if (format === 'svg') return svg(width, height, transparent);
  const channels = transparent ? 4 : 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let x = 0; x < width; x++) {
    const t = x / Math.max(1, width - 1);
    const offset = x * channels;
    pixels[offset] = Math.round(40 + 180 * t);
    pixels[offset + 1] = 90;
    pixels[offset + 2] = Math.round(220 - 160 * t);
    if (transparent) pixels[offset + 3] = 200;
  }
  const rowBytes = width * channels;
  for (let y = 1; y < height; y++) pixels.copy(pixels, y * rowBytes, 0, rowBytes);
  // Loaded on first use: a native module whose loading a process that renders nothing need not pay.
  const { default: sharp } = await import('sharp');
  const image = sharp(pixels, { raw: { width, height, channels } });
  const encoded = format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 80 }) : format === 'gif' ? image.gif() : image.webp({ quality: 80 });
  return (await encoded.toBuffer()).toString('base64');
}
