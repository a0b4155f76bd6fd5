import sharp from 'sharp';
import { sizeDimensions, type OutputFormat, type Size } from '../../src/core/images-api.ts';

/**
 * Real, decodable images of the requested size and format, made once per
 * size × format × transparency and cached as base64 (sharp encodes png/jpeg/webp; writing
 * a webp encoder by hand would be unwise). A horizontal gradient keeps them small.
 */
/** Shared by every model in the process: the images do not depend on the profile. */
const cache = new Map<string, Promise<string>>();

export class ImageStore {
  get(size: Size, format: OutputFormat, transparent: boolean): Promise<string> {
    const key = `${size}/${format}/${transparent}`;
    let image = cache.get(key);
    if (!image) {
      image = render(size, format, transparent);
      cache.set(key, image);
    }
    return image;
  }

  /** Renders every combination up front, so the first requests do not pay for encoding. */
  async warm(): Promise<void> {
    const sizes: Size[] = ['1024x1024', '1536x1024', '1024x1536'];
    const jobs: Promise<string>[] = [];
    for (const size of sizes) {
      for (const format of ['png', 'jpeg', 'webp'] as const) jobs.push(this.get(size, format, false));
      jobs.push(this.get(size, 'png', true), this.get(size, 'webp', true));
    }
    await Promise.all(jobs);
  }
}

async function render(size: Size, format: OutputFormat, transparent: boolean): Promise<string> {
  const { width, height } = sizeDimensions(size);
  const channels = transparent ? 4 : 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let x = 0; x < width; x++) {
    const t = x / (width - 1);
    const offset = x * channels;
    pixels[offset] = Math.round(40 + 180 * t);
    pixels[offset + 1] = 90;
    pixels[offset + 2] = Math.round(220 - 160 * t);
    if (transparent) pixels[offset + 3] = 200;
  }
  const rowBytes = width * channels;
  for (let y = 1; y < height; y++) pixels.copy(pixels, y * rowBytes, 0, rowBytes);
  const image = sharp(pixels, { raw: { width, height, channels } });
  const encoded = format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 80 }) : image.webp({ quality: 80 });
  return (await encoded.toBuffer()).toString('base64');
}
