import type { Catalogue } from './catalogue.ts';
import type { OpenAIErrorBody } from './errors.ts';
import { retiredModel } from './request.ts';

const CREATED = 1_745_000_000;
const entry = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'system' });

/**
 * What `GET /v1/models` and `GET /v1/models/{id}` answer, as OpenAI does: the active models
 * served, one of them, a shut-down one as shut down (404 `model_not_found` with its
 * replacement), anything else as unknown. One answer for the mock and the gateway.
 */
export function modelsAnswer(path: string, served: readonly string[], catalogue: Catalogue): { status: number; body: unknown; kind: 'ok' | 'retired' | 'unknown' } {
  const listed = served.filter((id) => catalogue.get(id)?.status.state === 'active');
  if (path === '/v1/models') return { status: 200, body: { object: 'list', data: listed.map(entry) }, kind: 'ok' };
  const id = decodeURIComponent(path.slice('/v1/models/'.length));
  if (listed.includes(id)) return { status: 200, body: entry(id), kind: 'ok' };
  const model = catalogue.get(id);
  if (model?.status.state === 'retired') return { status: 404, body: { error: retiredModel(model).body }, kind: 'retired' };
  const error: OpenAIErrorBody = { message: `The model \`${id.slice(0, 100)}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
  return { status: 404, body: { error }, kind: 'unknown' };
}
