import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listen } from '../../src/core/http-listen.ts';

export interface Recorded {
  path: string;
  contentType: string;
  contentLength: string | undefined;
  bytes: number;
  sha256: string;
  /** The body as text when it is JSON (multipart bodies are only hashed). */
  json: Record<string, unknown> | undefined;
}

export interface RecordingUpstream {
  baseURL: string;
  requests: Recorded[];
  /** Streams still open (a client that left must close them). */
  openStreams(): number;
  close(): Promise<void>;
}

export interface StreamPlan {
  /** ms after the request at which each partial image is sent. */
  partialsAt: number[];
  completedAt: number;
  usage: { input_tokens: number; output_tokens: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A stand-in provider that records exactly what reached it (path, content type, length and
 * a hash of the body) and answers images requests: JSON with usage, or, for `stream: true`,
 * server-sent events on the plan's timetable. It shows what the gateway forwards and when.
 */
export async function startRecordingUpstream(plan: StreamPlan): Promise<RecordingUpstream> {
  const requests: Recorded[] = [];
  let open = 0;
  const server: Server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? '';
    let json: Record<string, unknown> | undefined;
    if (contentType.startsWith('application/json')) json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    requests.push({ path: req.url ?? '', contentType, contentLength: req.headers['content-length'], bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), json });
    const streamed = json ? json.stream === true : /name="stream"\r\n\r\ntrue/.test(body.toString('latin1'));
    const kind = req.url?.endsWith('/edits') ? 'image_edit' : 'image_generation';
    if (!streamed) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_recorded' });
      res.end(JSON.stringify({ created: 1, data: [{ b64_json: 'AAAA' }], usage: { ...plan.usage, total_tokens: plan.usage.input_tokens + plan.usage.output_tokens } }));
      return;
    }
    open++;
    res.on('close', () => open--);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_recorded_stream' });
    const start = Date.now();
    for (const [i, at] of plan.partialsAt.entries()) {
      await sleep(Math.max(0, start + at - Date.now()));
      if (res.destroyed) return;
      res.write(`event: ${kind}.partial_image\ndata: ${JSON.stringify({ type: `${kind}.partial_image`, b64_json: 'AAAA', partial_image_index: i })}\n\n`);
    }
    await sleep(Math.max(0, start + plan.completedAt - Date.now()));
    if (res.destroyed) return;
    res.end(`event: ${kind}.completed\ndata: ${JSON.stringify({ type: `${kind}.completed`, b64_json: 'AAAA', usage: { ...plan.usage, total_tokens: plan.usage.input_tokens + plan.usage.output_tokens } })}\n\n`);
  }
  const url = await listen(server, 0, '127.0.0.1');
  return {
    baseURL: `${url}/v1`,
    requests,
    openStreams: () => open,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
