import type { Context } from '@opentelemetry/api';
import { injectContext } from '../metrics/tracing.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.ts';
import type { Clients, GatewayClient } from './clients.ts';
import { sendError, sendJson } from './http-io.ts';
import type { JobEventStreams } from './jobs/sse.ts';
import type { JobBackend } from './jobs/types.ts';
import { GATEWAY_ERROR_TYPE } from './refusals.ts';
import { readImageInput, type RequestLimits } from './request-input.ts';

export interface JobsRouteDeps {
  jobs: JobBackend;
  streams: JobEventStreams;
  clients: Clients;
  limits: RequestLimits;
  log: Logger;
  /** This request's span context, when traced: a submitted job carries it, so its runs join the trace. */
  traceContext?: Context | undefined;
}

/** Failures of the job store itself (Redis gone, a command timed out), as ioredis and BullMQ raise them. */
function storeFailure(error: unknown, jobs: JobBackend): boolean {
  if (!jobs.ready()) return true;
  const e = error as { name?: unknown; message?: unknown; code?: unknown };
  const text = `${String(e?.name)} ${String(e?.message)}`;
  return /MaxRetriesPerRequest|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out|ReplyError|Stream isn't writeable/i.test(text) || e?.code === 'ECONNREFUSED';
}

const JOB_PATH = /^\/v1\/jobs\/(job_[0-9a-f-]{36})(\/events)?$/;

const notFound = (res: ServerResponse, id: string) =>
  sendError(res, 404, { message: `No job with id '${id}' (it may have expired).`, type: 'invalid_request_error', param: 'id', code: 'job_not_found' });

/**
 * The async API: POST /v1/jobs/images (202 + job), GET /v1/jobs/:id, GET /v1/jobs/:id/events
 * (server-sent events), DELETE /v1/jobs/:id, GET /v1/jobs/dead-letter. A client sees only
 * its own jobs. Returns false when the path is not the async API's.
 */
export async function routeJobs(req: IncomingMessage, res: ServerResponse, path: string, client: GatewayClient, deps: JobsRouteDeps): Promise<boolean> {
  if (!path.startsWith('/v1/jobs')) return false;
  try {
    return await route(req, res, path, client, deps);
  } catch (error) {
    if (storeFailure(error, deps.jobs)) {
      // The job store failed (Redis gone mid-request): say so, and when to come back.
      deps.log.warn({ err: error, path }, 'job store unavailable');
      sendError(res, 503, { message: 'The job store is unavailable; try again shortly.', type: GATEWAY_ERROR_TYPE, param: null, code: 'jobs_unavailable' }, { 'retry-after': '1' });
      return true;
    }
    // Anything else is a bug: logged with its stack, and answered as one.
    deps.log.error({ err: error, method: req.method, path }, 'unexpected error in the jobs routes');
    sendError(res, 500, { message: 'The gateway failed to handle this request.', type: GATEWAY_ERROR_TYPE, param: null, code: 'internal_error' });
    return true;
  }
}

async function route(req: IncomingMessage, res: ServerResponse, path: string, client: GatewayClient, deps: JobsRouteDeps): Promise<boolean> {
  const { jobs } = deps;
  if (path === '/v1/jobs/images') {
    if (req.method !== 'POST') {
      methodNotAllowed(req, res, path, 'POST');
      return true;
    }
    if (!jobs.ready()) {
      sendError(res, 503, { message: 'The job store is unavailable; try again shortly.', type: GATEWAY_ERROR_TYPE, param: null, code: 'jobs_unavailable' }, { 'retry-after': '1' });
      return true;
    }
    const input = await readImageInput(req, res, 'generations', client, deps.clients, deps.limits);
    if (!input) return true;
    if (input.image.stream) {
      sendError(res, 400, { message: 'An async job cannot stream: send stream: false, or call /v1/images/generations with stream: true.', type: 'invalid_request_error', param: 'stream', code: 'unsupported_value' });
      return true;
    }
        const trace = injectContext({}, deps.traceContext);
    const view = await jobs.submit({ body: input.upstream.bytes!.toString('utf8'), image: input.image, client, ...(trace.traceparent ? { trace } : {}) });
    sendJson(res, 202, view, { location: `/v1/jobs/${view.id}` });
    return true;
  }
  if (path === '/v1/jobs/dead-letter') {
    if (req.method !== 'GET') {
      methodNotAllowed(req, res, path, 'GET');
      return true;
    }
    const dead = (await jobs.deadLetters()).filter((d) => d.client === client.name);
    sendJson(res, 200, { object: 'list', data: dead });
    return true;
  }
  const match = JOB_PATH.exec(path);
  if (!match) return false;
  const id = match[1]!;
  const view = await jobs.get(id);
  if (!view || view.client !== client.name) {
    notFound(res, id);
    return true;
  }
  if (match[2]) {
    if (req.method !== 'GET') {
      methodNotAllowed(req, res, path, 'GET');
      return true;
    }
    if (!(await deps.streams.stream(res, jobs, id))) {
      sendError(res, 503, { message: 'Too many event subscribers; poll GET /v1/jobs/:id instead.', type: GATEWAY_ERROR_TYPE, param: null, code: 'too_many_subscribers' }, { 'retry-after': '5' });
    }
    return true;
  }
  if (req.method === 'GET') return sendJson(res, 200, view), true;
  if (req.method === 'DELETE') return sendJson(res, 200, (await jobs.cancel(id)) ?? view), true;
  {
      methodNotAllowed(req, res, path, 'GET, DELETE');
      return true;
    }
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, path: string, allow: string): void {
  sendError(res, 405, { message: `Invalid method for URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null }, { allow });
}
