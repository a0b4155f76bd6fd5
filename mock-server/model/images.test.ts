import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageStore } from './images.ts';

const metadataOf = (b64: string) => sharp(Buffer.from(b64, 'base64')).metadata();

describe('ImageStore', () => {
  it('renders the size and format asked, decodable', async () => {
    const meta = await metadataOf(await new ImageStore().get(640, 360, 'webp', false));
    expect(meta).toMatchObject({ format: 'webp', width: 640, height: 360 });
    expect((await metadataOf(await new ImageStore().get(64, 48, 'png', true))).channels).toBe(4);
  });

  it('answers placeholders without rendering: one 1×1 PNG whatever is asked', async () => {
    const store = new ImageStore('placeholder');
    await store.warm();
    const a = await store.get(1536, 1024, 'jpeg', false);
    expect(await store.get(1024, 1024, 'webp', true)).toBe(a);
    expect(await metadataOf(a)).toMatchObject({ format: 'png', width: 1, height: 1 });
  });
});
