import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../core/http-body.ts';
import { validateImageRequest, type ImageRequest } from '../core/images-request.ts';
import { RequestError } from '../core/openai-errors.ts';
import type { Clients, GatewayClient } from './clients.ts';
import { sendError } from './http-io.ts';
import { GATEWAY_ERROR_TYPE } from './refusals.ts';

export interface RequestLimits {
  maxBodyBytes: number;
  models: readonly string[];
}

/**
 * Reads and validates an images request the way the provider would, then takes its images
 * from the client's quota. Answers the client itself (413, 400, 429) and returns undefined
 * when the request goes no further.
 */
export async function readImageInput(
  req: IncomingMessage,
  res: ServerResponse,
  client: GatewayClient,
  clients: Clients,
  limits: RequestLimits,
): Promise<{ body: string; image: ImageRequest } | undefined> {
  const body = await readBody(req, limits.maxBodyBytes);
  if (!body) return undefined;
  if (body.tooLarge) {
    sendError(res, 413, { message: `Request body too large: the limit is ${limits.maxBodyBytes} bytes.`, type: 'invalid_request_error', param: null, code: 'payload_too_large' });
    return undefined;
  }
  let image: ImageRequest;
  try {
    image = validateImageRequest(req.headers['content-type'], body.bytes, limits.models);
  } catch (error) {
    if (error instanceof RequestError) {
      sendError(res, error.status, error.body);
      return undefined;
    }
    throw error;
  }
  const images = image.n;
  const wait = clients.takeQuota(client, images, Date.now());
  if (wait > 0) {
    const never = wait === Infinity;
    sendError(
      res,
      429,
      {
        message: never
          ? `This request asks for ${images} images, more than client \`${client.name}\`'s whole quota.`
          : `Client \`${client.name}\` has used its image quota; it refills in ${Math.ceil(wait / 1000)} s.`,
        type: GATEWAY_ERROR_TYPE,
        param: never ? 'n' : null,
        code: 'client_quota_exceeded',
      },
      never ? {} : { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))), 'retry-after-ms': String(Math.ceil(wait)) },
    );
    return undefined;
  }
  return { body: body.bytes.toString('utf8'), image };
}
