import { describe, expect, it } from 'vitest';
import { RequestError } from './errors.ts';
import { validateImageFields, validateImageRequest, type ValidationContext } from './request.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const check = (body: unknown, contentType = 'application/json', ctx: Omit<ValidationContext, 'endpoint'> = {}) => validateImageRequest(contentType, encode(body), ctx);

function rejection(run: () => unknown): RequestError {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('validateImageRequest', () => {
  it('fills OpenAI defaults, resolves auto and takes the default model', () => {
    expect(check({ prompt: 'cat' })).toEqual({
      endpoint: 'generations',
      model: 'gpt-image-1.5',
      family: 'gpt-image-1.5',
      prompt: 'cat',
      n: 1,
      size: '1024x1024',
      width: 1024,
      height: 1024,
      quality: 'medium',
      background: 'opaque',
      format: 'png',
      compression: undefined,
      moderation: 'auto',
      safetyIdentifier: undefined,
      stream: false,
      partialImages: 0,
      inputFidelity: undefined,
      inputImages: [],
      hasMask: false,
      frameCount: undefined,
    });
    expect(check({ prompt: 'cat', model: 'gpt-image-2', size: '1536x1024', quality: 'high', output_format: 'jpeg', output_compression: 40, user: 'u1', stream: false })).toMatchObject({
      model: 'gpt-image-2',
      size: '1536x1024',
      quality: 'high',
      format: 'jpeg',
      compression: 40,
      safetyIdentifier: 'u1',
    });
  });

  it("accepts today's surface: free-form sizes, xhigh/max on 2.5, streaming, safety_identifier over user, complexity", () => {
    expect(check({ prompt: 'x', model: 'gpt-image-2', size: '1536x864' })).toMatchObject({ size: '1536x864', width: 1536, height: 864 });
    expect(check({ prompt: 'x', model: 'gpt-image-2.5-flare', quality: 'xhigh', size: '3840x2160' })).toMatchObject({ quality: 'xhigh', width: 3840 });
    expect(check({ prompt: 'x', model: 'gpt-image-2.5-sunburst-2026-09-08', quality: 'max' })).toMatchObject({ quality: 'max', family: 'gpt-image-2.5-sunburst' });
    expect(check({ prompt: 'x', model: 'gpt-image-2', stream: true, partial_images: 3 })).toMatchObject({ stream: true, partialImages: 3 });
    expect(check({ prompt: 'x', safety_identifier: 'hashed', user: 'old' }).safetyIdentifier).toBe('hashed');
    expect(check({ prompt: 'x', safety_identifier: '', user: 'old' }).safetyIdentifier).toBe('old');
    expect(check({ prompt: 'x', model: 'gpt-image-2', complexity: 'high' }).model).toBe('gpt-image-2');
    expect(check({ prompt: 'x', model: 'gpt-image-2', output_format: 'gif', frame_count: 4 }, undefined, { access: { gif: true } })).toMatchObject({ format: 'gif', frameCount: 4 });
    expect(check({ prompt: 'x', model: 'gpt-image-2', output_format: 'svg', svg: { model: 'x' } }, undefined, { access: { svg: true } }).format).toBe('svg');
  });

  it.each([
    ['bad JSON', '{"prompt": "cat"', undefined, 400, null, null, /could not parse the JSON body/],
    ['a JSON array', [1, 2], undefined, 400, null, 'invalid_type', /expected an object/],
    ['wrong content type', { prompt: 'cat' }, 'text/plain', 400, null, null, /Invalid Content-Type header \(text\/plain\)/],
    ['missing prompt', {}, undefined, 400, 'prompt', 'missing_required_parameter', /Missing required parameter: 'prompt'/],
    ['prompt of the wrong type', { prompt: 42 }, undefined, 400, 'prompt', 'invalid_type', /expected a string, but got number/],
    ['empty prompt', { prompt: '' }, undefined, 400, 'prompt', 'empty_string', /empty string/],
    ['prompt over 32 000 chars', { prompt: 'x'.repeat(32_001) }, undefined, 400, 'prompt', 'string_above_max_length', /maximum length 32000.*length 32001/],
    ['n = 0', { prompt: 'cat', n: 0 }, undefined, 400, 'n', 'integer_below_min_value', /Expected a value >= 1, but got 0/],
    ['n = 11', { prompt: 'cat', n: 11 }, undefined, 400, 'n', 'integer_above_max_value', /Expected a value <= 10, but got 11/],
    ['n = 1.5', { prompt: 'cat', n: 1.5 }, undefined, 400, 'n', 'invalid_type', /expected an integer/],
    ['n as a string', { prompt: 'cat', n: '2' }, undefined, 400, 'n', 'invalid_type', /expected an integer, but got string/],
    ['a size a fixed-size model lacks', { prompt: 'cat', size: '512x512' }, undefined, 400, 'size', 'invalid_value', /Supported values for gpt-image-1\.5 are: '1024x1024', '1536x1024', '1024x1536', and 'auto'\./],
    ['1000x1000 on gpt-image-2 (not a multiple of 16)', { prompt: 'cat', model: 'gpt-image-2', size: '1000x1000' }, undefined, 400, 'size', 'invalid_value', /divisible by 16/],
    ['4000x1000 on gpt-image-2 (ratio)', { prompt: 'cat', model: 'gpt-image-2', size: '4000x1000' }, undefined, 400, 'size', 'invalid_value', /aspect ratio must be between 1:3 and 3:1/],
    ['3856x2160 on gpt-image-2 (edge)', { prompt: 'cat', model: 'gpt-image-2', size: '3856x2160' }, undefined, 400, 'size', 'invalid_value', /maximum supported resolution is 3840x2160/],
    ['512x512 on gpt-image-2 (pixels)', { prompt: 'cat', model: 'gpt-image-2', size: '512x512' }, undefined, 400, 'size', 'invalid_value', /total pixels must be between 655360 and 8294400/],
    ['a free-form size on a fixed-size model', { prompt: 'cat', model: 'gpt-image-2.6-flare', size: '1536x864' }, undefined, 400, 'size', 'invalid_value', /Supported values for gpt-image-2\.6-flare/],
    ['xhigh where the model lacks it', { prompt: 'cat', model: 'gpt-image-2', quality: 'xhigh' }, undefined, 400, 'quality', 'invalid_value', /Supported values for gpt-image-2 are: 'low', 'medium', 'high', and 'auto'/],
    ['unknown quality', { prompt: 'cat', quality: 'hd' }, undefined, 400, 'quality', 'invalid_value', /Supported values for gpt-image-1\.5 are: 'low', 'medium', 'high', and 'auto'/],
    ['unknown background', { prompt: 'cat', background: 'blue' }, undefined, 400, 'background', 'invalid_value', /Invalid value: 'blue'/],
    ['a format the model lacks', { prompt: 'cat', output_format: 'gif' }, undefined, 400, 'output_format', 'invalid_value', /Invalid value: 'gif'/],
    ['gif without project access', { prompt: 'cat', model: 'gpt-image-2', output_format: 'gif' }, undefined, 403, 'output_format', 'unsupported_value', /does not have access to output_format 'gif'/],
    ['stream with svg', { prompt: 'cat', model: 'gpt-image-2', output_format: 'svg', stream: true }, undefined, 400, 'stream', 'unsupported_parameter', /Streaming is not supported with output_format 'svg'/],
    ['svg with n = 2', { prompt: 'cat', model: 'gpt-image-2', output_format: 'svg', n: 2 }, undefined, 400, 'n', 'invalid_value', /requires n = 1/],
    ['frame_count without gif', { prompt: 'cat', model: 'gpt-image-2', frame_count: 3 }, undefined, 400, 'frame_count', 'unsupported_parameter', /only supported with output_format 'gif'/],
    ['transparent with jpeg', { prompt: 'cat', background: 'transparent', output_format: 'jpeg' }, undefined, 400, 'background', 'invalid_value', /not supported for output_format 'jpeg'/],
    ['compression with png', { prompt: 'cat', output_compression: 50 }, undefined, 400, 'output_compression', 'invalid_value', /only supported for output_format 'jpeg' and 'webp'/],
    ['compression over 100', { prompt: 'cat', output_format: 'webp', output_compression: 101 }, undefined, 400, 'output_compression', 'integer_above_max_value', /<= 100/],
    ['a shut-down model', { prompt: 'cat', model: 'gpt-image-1' }, undefined, 404, 'model', 'model_not_found', /`gpt-image-1` has been shut down on 2026-10-23\. Use gpt-image-2\.5-sunburst or gpt-image-2\.5-flare instead/],
    ['dall-e-3', { prompt: 'cat', model: 'dall-e-3' }, undefined, 404, 'model', 'model_not_found', /shut down on 2026-05-12/],
    ['an unknown model', { prompt: 'cat', model: 'gpt-image-9' }, undefined, 400, 'model', 'invalid_value', /Invalid value: 'gpt-image-9'\. Supported values are: 'gpt-image-1-mini', 'gpt-image-1\.5'/],
    ['unknown field', { prompt: 'cat', steps: 50 }, undefined, 400, 'steps', 'unknown_parameter', /Unrecognized request argument supplied: steps/],
    ['response_format', { prompt: 'cat', response_format: 'url' }, undefined, 400, 'response_format', 'unknown_parameter', /always return base64/],
    ['moderation value', { prompt: 'cat', moderation: 'off' }, undefined, 400, 'moderation', 'invalid_value', /Supported values are: 'low', and 'auto'/],
    ['stream of the wrong type', { prompt: 'cat', stream: 'yes' }, undefined, 400, 'stream', 'invalid_type', /expected a boolean/],
    ['partial_images out of range', { prompt: 'cat', partial_images: 4 }, undefined, 400, 'partial_images', 'integer_above_max_value', /<= 3/],
    ['user of the wrong type', { prompt: 'cat', user: 7 }, undefined, 400, 'user', 'invalid_type', /expected a string/],
    ['complexity out of range', { prompt: 'cat', model: 'gpt-image-2', complexity: 'extreme' }, undefined, 400, 'complexity', 'invalid_value', /'low', 'medium', and 'high'/],
  ])('rejects %s with status, param and code', (_name, body, contentType, status, param, code, message) => {
    const error = rejection(() => check(body, contentType));
    expect(error.status).toBe(status);
    expect(error.body.type).toBe('invalid_request_error');
    expect(error.body.param).toBe(param);
    expect(error.body.code).toBe(code);
    expect(error.body.message).toMatch(message);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => validateImageRequest('application/json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toThrow(RequestError);
  });

  it('only serves the models it is given, and says which', () => {
    const error = rejection(() => check({ prompt: 'x', model: 'gpt-image-2' }, undefined, { models: ['gpt-image-1.5'] }));
    expect(error.body.message).toBe("Invalid value: 'gpt-image-2'. Supported values are: 'gpt-image-1.5'.");
  });
});

describe('validation mode `cost` (the gateway forwards the rest)', () => {
  const cost = (body: Record<string, unknown>) => validateImageFields(body, { endpoint: 'generations', mode: 'cost' });

  it('forwards unknown fields and values it does not price', () => {
    expect(cost({ prompt: 'x', model: 'gpt-image-2', brand_new_field: { a: 1 }, background: 'glitter', output_format: 'avif' })).toMatchObject({ model: 'gpt-image-2', format: 'png' });
  });

  it.each([
    ['model', { prompt: 'x', model: 'gpt-image-1' }],
    ['n', { prompt: 'x', n: 11 }],
    ['size', { prompt: 'x', model: 'gpt-image-2', size: '1000x1000' }],
    ['quality', { prompt: 'x', model: 'gpt-image-2', quality: 'max' }],
    ['stream', { prompt: 'x', stream: 'yes' }],
  ])('still checks %s, which the limiter prices', (param, body) => {
    expect(rejection(() => cost(body)).body.param).toBe(param);
  });
});

describe('edits', () => {
  const edit = (body: Record<string, unknown>, images = [{ width: 1024, height: 1024 }], mask?: { width: number; height: number }, markup = false) =>
    validateImageFields(body, { endpoint: 'edits' }, { images, mask, markup });

  it('carries input images and fidelity', () => {
    expect(edit({ prompt: 'x', model: 'gpt-image-1.5', input_fidelity: 'high' }, [{ width: 1024, height: 1024 }, { width: 512, height: 512 }])).toMatchObject({
      endpoint: 'edits',
      inputImages: [{ width: 1024, height: 1024 }, { width: 512, height: 512 }],
      inputFidelity: 'high',
    });
  });

  it.each([
    ['input_fidelity on gpt-image-2 (omit it)', { prompt: 'x', model: 'gpt-image-2', input_fidelity: 'low' }, 'input_fidelity', /omit it/],
    ['high fidelity on 1-mini (low only)', { prompt: 'x', model: 'gpt-image-1-mini', input_fidelity: 'high' }, 'input_fidelity', /Supported values for gpt-image-1-mini are: 'low'/],
    ['an edit field on generations', { prompt: 'x', input_fidelity: 'low' }, 'input_fidelity', /Unrecognized/],
  ])('rejects %s', (_name, body, param, message) => {
    const run = param === 'input_fidelity' && !('model' in body) ? () => validateImageFields(body, { endpoint: 'generations' }) : () => edit(body);
    const error = rejection(run);
    expect(error.body.param).toBe(param);
    expect(error.body.message).toMatch(message);
  });

  it('takes markup on 2.5 only, and never with a mask', () => {
    expect(edit({ prompt: 'x', model: 'gpt-image-2.5-flare' }, undefined, undefined, true).model).toBe('gpt-image-2.5-flare');
    expect(rejection(() => edit({ prompt: 'x', model: 'gpt-image-2' }, undefined, undefined, true)).body).toMatchObject({ param: 'markup', code: 'unsupported_parameter' });
    expect(rejection(() => edit({ prompt: 'x', model: 'gpt-image-2.5-flare' }, undefined, { width: 1024, height: 1024 }, true)).body).toMatchObject({ param: 'markup', code: 'invalid_value' });
  });

  it('needs an image', () => {
    expect(rejection(() => edit({ prompt: 'x' }, [])).body).toMatchObject({ param: 'image', code: 'missing_required_parameter' });
  });
});
