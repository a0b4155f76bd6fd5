import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPENAI_UPLOAD_LIMITS } from './edit-inputs.ts';
import { RequestError } from './errors.ts';
import { readImageRequest } from './read-request.ts';

let png: Buffer;
let small: Buffer;
let jpeg: Buffer;
let webp: Buffer;
beforeAll(async () => {
  const image = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 4, background: '#336699' } });
  [png, small, jpeg, webp] = await Promise.all([image(256, 256).png().toBuffer(), image(128, 128).png().toBuffer(), image(256, 256).jpeg().toBuffer(), image(300, 200).webp().toBuffer()]);
});

type Part = [name: string, value: string | { bytes: Buffer; filename: string; type?: string }];

/** A multipart body as the platform's FormData encodes it (what the SDK sends). */
async function form(parts: Part[]): Promise<{ contentType: string; bytes: Buffer }> {
  const data = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') data.append(name, value);
    else data.append(name, new Blob([new Uint8Array(value.bytes)], { type: value.type ?? 'image/png' }), value.filename);
  }
  const response = new Response(data);
  return { contentType: response.headers.get('content-type')!, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function* chunks(bytes: Buffer, size = 7_919): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const read = (body: { contentType: string; bytes: Buffer }, limits = OPENAI_UPLOAD_LIMITS) =>
  readImageRequest({ contentType: body.contentType, stream: chunks(body.bytes) }, 'edits', {}, limits);

async function refusal(run: Promise<unknown>): Promise<RequestError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RequestError)) throw new Error(`expected a RequestError, got ${String(error)}`);
  return error;
}

const file = (bytes: Buffer, filename = 'a.png', type?: string) => ({ bytes, filename, ...(type ? { type } : {}) });

describe('multipart edits', () => {
  it('reads fields (numbers and booleans back from text), images by `image` or `image[]`, and a mask', async () => {
    const body = await form([
      ['model', 'gpt-image-1.5'],
      ['prompt', 'make it blue'],
      ['n', '2'],
      ['stream', 'true'],
      ['partial_images', '1'],
      ['input_fidelity', 'high'],
      ['image[]', file(png)],
      ['image[]', file(jpeg, 'b.jpg', 'image/jpeg')],
      ['image[]', file(webp, 'c.webp', 'image/webp')],
      ['mask', file(png, 'mask.png')],
    ]);
    const image = await read(body);
    expect(image).toMatchObject({ endpoint: 'edits', n: 2, stream: true, partialImages: 1, inputFidelity: 'high', hasMask: true });
    expect(image.inputImages).toEqual([{ width: 256, height: 256 }, { width: 256, height: 256 }, { width: 300, height: 200 }]);
  });

  it('detects the type from the bytes, not the declared type', async () => {
    const lying = await form([['prompt', 'x'], ['image', file(Buffer.from('just text, not an image'), 'a.png', 'image/png')]]);
    const error = await refusal(read(lying));
    expect(error.body).toMatchObject({ param: 'image', code: 'invalid_image_format' });
    expect(error.body.message).toContain("unsupported mimetype ('application/octet-stream')");
  });

  it.each([
    ['no boundary', async () => ({ contentType: 'multipart/form-data', bytes: Buffer.from('--x\r\n') }), 400, null, 'invalid_multipart', /boundary/i],
    ['a truncated part', async () => {
      const body = await form([['prompt', 'x'], ['image', file(png)]]);
      return { ...body, bytes: body.bytes.subarray(0, body.bytes.length - 40) };
    }, 400, null, 'invalid_multipart', /Unexpected end of multipart data/],
    ['no image', async () => form([['prompt', 'x']]), 400, 'image', 'missing_required_parameter', /Missing required parameter: 'image'/],
    ['17 images', async () => form([['prompt', 'x'], ...Array.from({ length: 17 }, (): Part => ['image[]', file(png)])]), 400, 'image', 'array_above_max_length', /maximum length 16, but got an array with length 17/],
    ['a mask of another size', async () => form([['prompt', 'x'], ['image', file(png)], ['mask', file(small, 'm.png')]]), 400, 'mask', 'invalid_mask_dimensions', /same dimensions as the first image \(256x256\), got 128x128/],
    ['a mask that is not PNG', async () => form([['prompt', 'x'], ['image', file(jpeg, 'a.jpg')], ['mask', file(jpeg, 'm.jpg')]]), 400, 'mask', 'invalid_image_format', /must be a PNG/],
    ['a missing prompt', async () => form([['image', file(png)]]), 400, 'prompt', 'missing_required_parameter', /'prompt'/],
    ['an unknown field', async () => form([['prompt', 'x'], ['image', file(png)], ['steps', '5']]), 400, 'steps', 'unknown_parameter', /steps/],
  ])('refuses %s with an OpenAI-shaped error', async (_name, make, status, param, code, message) => {
    const error = await refusal(read(await make()));
    expect(error.status).toBe(status);
    expect(error.body).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(error.body.message).toMatch(message);
  });

  it('refuses an image at 50 MB, reading it as a stream', async () => {
    const big = Buffer.alloc(OPENAI_UPLOAD_LIMITS.maxImageBytes, 0);
    png.copy(big);
    const error = await refusal(read(await form([['prompt', 'x'], ['image', file(big, 'huge.png')]])));
    expect(error.body).toMatchObject({ param: 'image', code: 'image_too_large' });
    expect(error.body.message).toMatch(/huge\.png' is 50\.0 MB; each image must be smaller than 50 MB/);
  });

  it('answers 413 past the whole upload limit, and still reads the body to its end', async () => {
    const limits = { maxImages: 2, maxImageBytes: 10_000, maxMaskBytes: 1_000 };
    let read_ = 0;
    const body = await form([['prompt', 'x'], ['image', file(Buffer.alloc(40 * 1024 * 1024))]]);
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const c of chunks(body.bytes, 65_536)) {
        read_ += c.length;
        yield c;
      }
    }
    const error = await refusal(readImageRequest({ contentType: body.contentType, stream: counted() }, 'edits', {}, limits));
    expect(error.status).toBe(413);
    expect(read_).toBe(body.bytes.length);
  });
});

describe('JSON edits', () => {
  const json = (body: unknown) => readImageRequest({ contentType: 'application/json', bytes: Buffer.from(JSON.stringify(body)) }, 'edits', {});

  it('takes image references: data URLs are measured, URLs and file ids priced as 1024x1024', async () => {
    const image = await json({ prompt: 'x', images: [{ image_url: `data:image/webp;base64,${webp.toString('base64')}` }, { image_url: 'https://example.com/a.png' }, { file_id: 'file-abc' }] });
    expect(image.inputImages).toEqual([{ width: 300, height: 200 }, { width: 1024, height: 1024 }, { width: 1024, height: 1024 }]);
  });

  it.each([
    [{ prompt: 'x' }, 'images', 'missing_required_parameter'],
    [{ prompt: 'x', images: [] }, 'images', 'empty_array'],
    [{ prompt: 'x', images: [{ image_url: 'a', file_id: 'b' }] }, 'images[0]', 'invalid_value'],
    [{ prompt: 'x', images: [{ image_url: 'data:image/png;base64,aGVsbG8=' }] }, 'images[0].image_url', 'invalid_image_format'],
    [{ prompt: 'x', images: Array.from({ length: 17 }, () => ({ file_id: 'f' })) }, 'images', 'array_above_max_length'],
  ])('refuses %j', async (body, param, code) => {
    expect((await refusal(json(body))).body).toMatchObject({ param, code });
  });
});
