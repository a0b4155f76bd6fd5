import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../core/http-body.ts';
import type { Endpoint } from '../openai/catalogue-schema.ts';
import type { UploadLimits } from '../openai/edit-inputs.ts';
import { RequestError } from '../openai/errors.ts';
import { isMultipart, maxUploadBytes, readImageRequest } from '../openai/read-request.ts';
import type { ImageRequest, ValidationContext } from '../openai/request.ts';
import type { Clients, GatewayClient } from './clients.ts';
import { sendError } from './http-io.ts';
import { GATEWAY_ERROR_TYPE } from './refusals.ts';
import { Spool, type SpoolLimits } from './spool.ts';

export interface RequestLimits {
  maxBodyBytes: number;
  uploads: UploadLimits;
  /** Where multipart uploads wait while they are parsed and sent: memory while small, else disk. */
  spool: SpoolLimits;
  /** How requests are checked: the models served, the catalogue, `cost` (forward) or `full` (strict). */
  validation: Omit<ValidationContext, 'endpoint'>;
}

/**
 * The body as it goes upstream, byte for byte what the client sent (so fields the gateway
 * does not know pass through): in memory (JSON, small uploads), or spooled to a file and
 * streamed from it on every attempt (an edit can carry 16 × 50 MB).
 */
export interface UpstreamBody {
  endpoint: Endpoint;
  contentType: string;
  /** A JSON body. */
  bytes?: Buffer;
  /** A small upload, as it arrived, with its total `size`. */
  chunks?: readonly Buffer[];
  size?: number;
  /** A large upload, spooled. */
  file?: { path: string; size: number };
}

export interface ImageInput {
  image: ImageRequest;
  upstream: UpstreamBody;
  /** Removes a spooled upload; call once the request is answered. */
  dispose(): Promise<void>;
}

const NOTHING = async (): Promise<void> => undefined;

async function spoolAndRead(req: IncomingMessage, endpoint: Endpoint, limits: RequestLimits): Promise<ImageInput> {
  const spool = new Spool(limits.spool, maxUploadBytes(limits.uploads));
  // The request goes to the spool and to the parser at once (Node pauses it for the slower).
  req.pipe(spool);
  try {
    const image = await readImageRequest({ contentType: req.headers['content-type'], stream: req }, endpoint, limits.validation, limits.uploads);
    const held = await spool.result();
    const upstream: UpstreamBody = 'file' in held ? { endpoint, contentType: req.headers['content-type']!, file: held.file } : { endpoint, contentType: req.headers['content-type']!, chunks: held.chunks, size: held.size };
    return { image, upstream, dispose: () => spool.dispose() };
  } catch (error) {
    await spool.dispose();
    throw error;
  }
}

/**
 * Reads and validates an images request (generations as JSON; edits as multipart or JSON),
 * then takes its images from the client's quota. Answers the client itself (413, 400, 429)
 * and returns undefined when the request goes no further.
 */
export async function readImageInput(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: Endpoint,
  client: GatewayClient,
  clients: Clients,
  limits: RequestLimits,
): Promise<ImageInput | undefined> {
  let input: ImageInput;
  try {
    if (endpoint === 'edits' && isMultipart(req.headers['content-type'])) {
      input = await spoolAndRead(req, endpoint, limits);
    } else {
      const body = await readBody(req, limits.maxBodyBytes);
      if (!body) return undefined;
      if (body.tooLarge) {
        sendError(res, 413, { message: `Request body too large: the limit is ${limits.maxBodyBytes} bytes.`, type: 'invalid_request_error', param: null, code: 'payload_too_large' });
        return undefined;
      }
      const contentType = req.headers['content-type'] ?? 'application/json';
      const image = await readImageRequest({ contentType: req.headers['content-type'], bytes: body.bytes }, endpoint, limits.validation, limits.uploads);
      input = { image, upstream: { endpoint, contentType, bytes: body.bytes }, dispose: NOTHING };
    }
  } catch (error) {
    if (error instanceof RequestError) {
      sendError(res, error.status, error.body);
      return undefined;
    }
    throw error;
  }
  const images = input.image.n;
  const wait = clients.takeQuota(client, images, Date.now());
  if (wait > 0) {
    await input.dispose();
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
  return input;
}
