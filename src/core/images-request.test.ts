import { describe, expect, it } from 'vitest';
import { RequestError } from './openai-errors.ts';
import { validateImageRequest } from './images-request.ts';

const models = ['gpt-image-1', 'gpt-image-2'];
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const check = (body: unknown, contentType = 'application/json') => validateImageRequest(contentType, encode(body), models);

function rejection(body: unknown, contentType?: string): RequestError['body'] {
  try {
    check(body, contentType);
  } catch (error) {
    if (error instanceof RequestError) return error.body;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('validateImageRequest', () => {
  it('fills OpenAI defaults and resolves auto', () => {
    expect(check({ prompt: 'cat' })).toEqual({
      model: 'gpt-image-1',
      prompt: 'cat',
      n: 1,
      size: '1024x1024',
      quality: 'medium',
      background: 'opaque',
      format: 'png',
      compression: undefined,
      moderation: 'auto',
      user: undefined,
    });
    expect(check({ prompt: 'cat', model: 'gpt-image-2', size: '1536x1024', quality: 'high', output_format: 'jpeg', output_compression: 40, user: 'u1', stream: false })).toMatchObject({
      model: 'gpt-image-2',
      size: '1536x1024',
      quality: 'high',
      format: 'jpeg',
      compression: 40,
      user: 'u1',
    });
  });

  it.each([
    ['bad JSON', '{"prompt": "cat"', undefined, null, null, /could not parse the JSON body/],
    ['a JSON array', [1, 2], undefined, null, 'invalid_type', /expected an object/],
    ['wrong content type', { prompt: 'cat' }, 'text/plain', null, null, /Invalid Content-Type header \(text\/plain\)/],
    ['missing prompt', {}, undefined, 'prompt', 'missing_required_parameter', /Missing required parameter: 'prompt'/],
    ['prompt of the wrong type', { prompt: 42 }, undefined, 'prompt', 'invalid_type', /expected a string, but got number/],
    ['empty prompt', { prompt: '' }, undefined, 'prompt', 'empty_string', /empty string/],
    ['prompt over 32 000 chars', { prompt: 'x'.repeat(32_001) }, undefined, 'prompt', 'string_above_max_length', /maximum length 32000.*length 32001/],
    ['n = 0', { prompt: 'cat', n: 0 }, undefined, 'n', 'integer_below_min_value', /Expected a value >= 1, but got 0/],
    ['n = 11', { prompt: 'cat', n: 11 }, undefined, 'n', 'integer_above_max_value', /Expected a value <= 10, but got 11/],
    ['n = 1.5', { prompt: 'cat', n: 1.5 }, undefined, 'n', 'invalid_type', /expected an integer/],
    ['n as a string', { prompt: 'cat', n: '2' }, undefined, 'n', 'invalid_type', /expected an integer, but got string/],
    ['unknown size', { prompt: 'cat', size: '512x512' }, undefined, 'size', 'invalid_value', /Invalid value: '512x512'\. Supported values are: '1024x1024', '1536x1024', '1024x1536', and 'auto'\./],
    ['unknown quality', { prompt: 'cat', quality: 'hd' }, undefined, 'quality', 'invalid_value', /Supported values are: 'low', 'medium', 'high', and 'auto'/],
    ['unknown background', { prompt: 'cat', background: 'blue' }, undefined, 'background', 'invalid_value', /Invalid value: 'blue'/],
    ['unknown output_format', { prompt: 'cat', output_format: 'gif' }, undefined, 'output_format', 'invalid_value', /Invalid value: 'gif'/],
    ['transparent with jpeg', { prompt: 'cat', background: 'transparent', output_format: 'jpeg' }, undefined, 'background', 'invalid_value', /not supported for output_format 'jpeg'/],
    ['compression with png', { prompt: 'cat', output_compression: 50 }, undefined, 'output_compression', 'invalid_value', /only supported for output_format 'jpeg' and 'webp'/],
    ['compression over 100', { prompt: 'cat', output_format: 'webp', output_compression: 101 }, undefined, 'output_compression', 'integer_above_max_value', /<= 100/],
    ['unknown model', { prompt: 'cat', model: 'dall-e-3' }, undefined, 'model', 'invalid_value', /Invalid value: 'dall-e-3'\. Supported values are: 'gpt-image-1', and 'gpt-image-2'/],
    ['unknown field', { prompt: 'cat', steps: 50 }, undefined, 'steps', 'unknown_parameter', /Unrecognized request argument supplied: steps/],
    ['response_format', { prompt: 'cat', response_format: 'url' }, undefined, 'response_format', 'unknown_parameter', /always return base64/],
    ['moderation value', { prompt: 'cat', moderation: 'off' }, undefined, 'moderation', 'invalid_value', /Supported values are: 'low', and 'auto'/],
    ['stream requested', { prompt: 'cat', stream: true }, undefined, 'stream', 'unsupported_value', /not supported by the ratelab mock/],
    ['partial_images out of range', { prompt: 'cat', partial_images: 4 }, undefined, 'partial_images', 'integer_above_max_value', /<= 3/],
    ['user of the wrong type', { prompt: 'cat', user: 7 }, undefined, 'user', 'invalid_type', /expected a string/],
  ])('rejects %s with param and code', (_name, body, contentType, param, code, message) => {
    const error = rejection(body, contentType);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => validateImageRequest('application/json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), models)).toThrow(RequestError);
  });
});
