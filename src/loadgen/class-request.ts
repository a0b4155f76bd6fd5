import { classFields, editBody, type RequestClass } from '../../loadtests/mixes.ts';
import type { EditInputs } from '../openai/request.ts';

/** A class's references as the validator measures them (each `width`×`height`); undefined for a generation. */
export function classEditInputs(c: RequestClass): EditInputs | undefined {
  const refs = c.inputImages;
  return refs ? { images: Array.from({ length: refs.count }, () => ({ width: refs.width, height: refs.height })), mask: undefined, markup: false } : undefined;
}

/** One class's request as the engine sends it: the path, the body, and its content type. */
export interface ClassRequest {
  path: '/v1/images/generations' | '/v1/images/edits';
  /** JSON for generations; multipart (fields, then `image[]` files) for edits: the bytes the k6 scripts send. */
  body: string | Uint8Array;
  contentType: string;
}

export function classRequest(c: RequestClass, vu: number, iteration: number, model: string): ClassRequest {
  if (c.endpoint === 'generations') return { path: '/v1/images/generations', body: JSON.stringify(classFields(c, vu, iteration, model)), contentType: 'application/json' };
  const edit = editBody(c, vu, iteration, model);
  return { path: '/v1/images/edits', body: edit.body, contentType: edit.contentType };
}
