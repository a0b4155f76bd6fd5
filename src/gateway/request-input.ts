import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBody } from '../core/http-body.ts';
import type { Endpoint } from '../openai/catalogue-schema.ts';
import type { UploadLimits } from '../openai/edit-inputs.ts';
import { RequestError } from '../openai/errors.ts';
import { isMultipart, readImageRequest } from '../openai/read-request.ts';
import type { ImageRequest, ValidationContext } from '../openai/request.ts';
import type { Clients, GatewayClient } from './clients.ts';
import { sendError } from './http-io.ts';
import { GATEWAY_ERROR_TYPE } from './refusals.ts';

export interface RequestLimits {
  maxBodyBytes: number;
  uploads: UploadLimits;
  /** How requests are checked: the models served, the catalogue, `cost` (forward) or `full` (strict). */
  validation: Omit<ValidationContext, 'endpoint'>;
}

/**
 * The body as it goes upstream, byte for byte what the client sent (so fields the gateway
 * does not know pass through): JSON in memory, multipart spooled to a file and streamed
 * from it on every attempt (an edit can carry 16 × 50 MB; it is never held in memory).
 */
export interface UpstreamBody {
  endpoint: Endpoint;
  contentType: string;
  bytes?: Buffer;
  file?: { path: string; size: number };
}

export interface ImageInput {
  image: ImageRequest;
  upstream: UpstreamBody;
  /** Removes a spooled upload; call once the request is answered. */
  dispose(): Promise<void>;
}

const NOTHING = async (): Promise<void> => undefined;

/** Writes each chunk to `path` as it passes through (with backpressure), for the parser to read too. */
async function* teeToFile(source: AsyncIterable<Buffer>, out: NodeJS.WritableStream, counted: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    counted.bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
    yield chunk;
  }
}

async function spoolAndRead(req: IncomingMessage, endpoint: Endpoint, limits: RequestLimits): Promise<{ image: ImageRequest; upstream: UpstreamBody; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ratelab-upload-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'body');
  const out = createWriteStream(path);
  const counted = { bytes: 0 };
  try {
    const image = await readImageRequest({ contentType: req.headers['content-type'], stream: teeToFile(req, out, counted) }, endpoint, limits.validation, limits.uploads);
    out.end();
    await once(out, 'finish');
    return { image, upstream: { endpoint, contentType: req.headers['content-type']!, file: { path, size: counted.bytes } }, dispose };
  } catch (error) {
    out.destroy();
    await dispose();
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
