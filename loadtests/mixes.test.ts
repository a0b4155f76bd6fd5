import { inflateSync } from 'node:zlib';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkMix } from '../src/loadgen/mix-file.ts';
import { parseMultipart } from '../src/openai/multipart.ts';
import { apiKeyFor, classFields, DEV_KEY, editBody, inputImageBytes, inputImagePng, missingPriorityKeys, MIXES, pickClass, priorityKeysOf, type RequestMix } from './mixes.ts';

describe('built-in mixes', () => {
  it.each(Object.keys(MIXES))('%s passes the mix file check', (name) => {
    expect(checkMix(MIXES[name]!).classes).toEqual(MIXES[name]!.classes.map((c) => expect.objectContaining(c)));
  });
});

describe('pickClass', () => {
  it("keeps each class's share over 20 000 iterations of 50 VUs, within 1.5 points", () => {
    const mix = MIXES.default!;
    const total = mix.classes.reduce((a, c) => a + c.weight, 0);
    const counts = new Map<string, number>();
    for (let vu = 1; vu <= 50; vu++) for (let i = 0; i < 400; i++) counts.set(pickClass(mix, vu, i).name, (counts.get(pickClass(mix, vu, i).name) ?? 0) + 1);
    for (const c of mix.classes) expect(Math.abs((counts.get(c.name) ?? 0) / 20_000 - c.weight / total)).toBeLessThan(0.015);
  });

  it('gives the same iteration the same class, and a one-class mix its class', () => {
    const mix = MIXES.default!;
    const a = Array.from({ length: 100 }, (_, i) => pickClass(mix, 3, i).name);
    expect(Array.from({ length: 100 }, (_, i) => pickClass(mix, 3, i).name)).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(2);
    const one: RequestMix = { name: 'x', description: '', classes: [MIXES.edits!.classes[0]!] };
    expect(pickClass(one, 9, 9)).toBe(one.classes[0]);
  });
});

describe('keys per priority', () => {
  const [preview, edit, paid, free] = MIXES.priorities!.classes as [RequestMix['classes'][number], RequestMix['classes'][number], RequestMix['classes'][number], RequestMix['classes'][number]];

  it('sends a class with its priority\'s key; with the dev key, the dev client of that priority', () => {
    expect([preview, edit, paid, free].map((c) => apiKeyFor(c, { key: DEV_KEY }))).toEqual([`${DEV_KEY}-high`, `${DEV_KEY}-high`, DEV_KEY, `${DEV_KEY}-low`]);
    const keys = { key: 'sk-app', byPriority: { high: 'sk-app-high', low: 'sk-app-low' } };
    expect([preview, paid, free].map((c) => apiKeyFor(c, keys))).toEqual(['sk-app-high', 'sk-app', 'sk-app-low']);
  });

  it('reads API_KEY_<PRIORITY>, and names the priorities a run with its own key has no client for', () => {
    const byPriority = priorityKeysOf({ API_KEY_HIGH: 'sk-h', API_KEY_LOW: '', API_KEY: 'sk-app', PATH: '/bin' });
    expect(byPriority).toEqual({ high: 'sk-h' });
    expect(missingPriorityKeys(MIXES.priorities!, { key: 'sk-app', byPriority })).toEqual(['low']);
    expect(missingPriorityKeys(MIXES.priorities!, { key: DEV_KEY })).toEqual([]);
    expect(missingPriorityKeys(MIXES.default!, { key: 'sk-app' })).toEqual([]);
  });
});

describe('classFields', () => {
  it('gives the single mix exactly the request every run sent before mixes', () => {
    expect(JSON.stringify(classFields(MIXES.single!.classes[0]!, 2, 5, 'gpt-image-1.5'))).toBe('{"model":"gpt-image-1.5","prompt":"ratelab load test 2-5","quality":"low","output_format":"webp"}');
  });

  it('names the size, n and the stream with its partial images, and a class model over the run one', () => {
    expect(classFields({ name: 'p', weight: 1, endpoint: 'generations', model: 'gpt-image-2', quality: 'high', size: '1536x1024', n: 1, format: 'png', stream: true, partialImages: 2 }, 1, 0, 'gpt-image-1.5')).toEqual({
      model: 'gpt-image-2', prompt: 'ratelab load test 1-0', quality: 'high', output_format: 'png', size: '1536x1024', stream: true, partial_images: 2,
    });
  });
});

describe('inputImagePng', () => {
  it.each([[1, 1], [300, 7], [512, 512]])('is a %ix%i RGB PNG that decodes, of inputImageBytes bytes', async (w, h) => {
    const png = inputImagePng(w, h);
    expect(png.length).toBe(inputImageBytes(w, h));
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: w, height: h, channels: 3 });
    expect(data.length).toBe(w * h * 3);
  });

  it("is a zlib stream zlib inflates (stored blocks, checksum right)", () => {
    const png = inputImagePng(400, 200);
    const idat = png.subarray(8 + 25 + 8, png.length - 12 - 4);
    expect(inflateSync(idat).length).toBe((1 + 3 * 400) * 200);
  });
});

describe('editBody', () => {
  it("is multipart the mock's and the gateway's reader reads back: the fields, then each reference as image[]", async () => {
    const c = MIXES.default!.classes.find((x) => x.name === 'edit-high')!;
    const { body, contentType } = editBody(c, 4, 2, 'gpt-image-1.5');
    const form = await parseMultipart(contentType, Readable.from([Buffer.from(body)]), { maxFiles: 16, maxFieldBytes: 100_000, maxTotalBytes: 100 * 2 ** 20 });
    expect(form.fields).toEqual({ model: 'gpt-image-1.5', prompt: 'ratelab load test 4-2', quality: 'high', output_format: 'png', size: '1536x1024' });
    expect(form.files.map((f) => ({ field: f.field, type: f.type, width: f.width, height: f.height, bytes: f.bytes }))).toEqual(
      [1, 2, 3].map(() => ({ field: 'image[]', type: 'png', width: 512, height: 512, bytes: inputImageBytes(512, 512) })),
    );
  });
});
