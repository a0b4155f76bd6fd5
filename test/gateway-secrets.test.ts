import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/core/http-listen.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';

/**
 * An upstream that echoes secrets everywhere it can — its own key (from the authorization
 * header) and another client's key — in headers, 200 bodies, error bodies and streamed
 * events split across writes. Whatever the key looks like (`sk-` or Azure-style), none of
 * it may reach a client: sync answers, streams, job records, job events, metrics.
 */
const OTHER_CLIENT_KEY = 'batch-client-key-0001-secret';
const WEB_KEY = 'web-client-key-0002-secret';

async function echoingUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const key = (req.headers.authorization ?? '').slice('Bearer '.length);
      const leak = `${key} / ${OTHER_CLIENT_KEY}`;
      const prompt = (JSON.parse(body) as { prompt?: string; stream?: boolean }).prompt;
      const headers = { 'content-type': 'application/json', 'x-request-id': `req_${key}`, 'openai-organization': key, 'x-ratelimit-limit-requests': '100' };
      if (prompt === 'refuse') {
        res.writeHead(400, headers);
        return void res.end(JSON.stringify({ error: { message: `bad key ${leak}`, type: 'invalid_request_error', param: null, code: null } }));
      }
      if (JSON.parse(body).stream) {
        res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' });
        const event = `event: image_generation.completed\ndata: ${JSON.stringify({ type: 'image_generation.completed', b64_json: 'AAAA', note: leak, usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } })}\n\n`;
        // The secret split across writes (and so across chunks).
        const cut = event.indexOf(key) + Math.floor(key.length / 2);
        res.write(event.slice(0, cut));
        setTimeout(() => res.end(event.slice(cut)), 30);
        return;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify({ created: 1, data: [{ b64_json: 'AAAA', revised_prompt: leak }], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } }));
    });
  });
  return { server, url: await listen(server) };
}

describe.each([
  ['an sk- key', 'sk-proj-echo-0123456789abcdefghij'],
  ['an Azure-style key', '4b1f9c2e7a8d4f6b9e3c1a0d5f7e2b8c'],
])('secrets never reach a client, with %s upstream', (_name, upstreamKey) => {
  let upstream: { server: Server; url: string };
  let gateway: RunningGateway;
  const secrets = [upstreamKey, OTHER_CLIENT_KEY];

  beforeAll(async () => {
    upstream = await echoingUpstream();
    gateway = await startGateway({
      upstream: `${upstream.url}/v1`,
      upstreamKey,
      config: {
        clients: [
          { name: 'web', key: WEB_KEY },
          { name: 'batch', key: OTHER_CLIENT_KEY },
        ],
        limiter: { retry: { maxAttempts: 1 } },
      },
    });
  });
  afterAll(async () => {
    await gateway.close(500);
    upstream.server.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${WEB_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const get = (path: string) => fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${WEB_KEY}` } });
  /** Headers and body of an answer, as one text to search. */
  const everything = async (res: Response) => `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await res.text()}`;
  const expectClean = (text: string) => {
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  };

  it('in sync answers: a 200, an error, a relayed stream', async () => {
    expectClean(await everything(await post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'ok' })));
    const refused = await post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'refuse' });
    expect(refused.status).toBe(400);
    expectClean(await everything(refused));
    expectClean(await everything(await post('/v1/images/generations', { model: 'gpt-image-2', prompt: 'ok', stream: true })));
  });

  it('in job records and job events', async () => {
    const ids: string[] = [];
    for (const prompt of ['ok', 'refuse']) {
      const created = (await (await post('/v1/jobs/images', { model: 'gpt-image-2', prompt })).json()) as { id: string };
      ids.push(created.id);
    }
    for (const id of ids) {
      let view = '';
      for (let i = 0; i < 100; i++) {
        view = await (await get(`/v1/jobs/${id}`)).text();
        if (/"status":"(succeeded|failed)"/.test(view)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(view).toMatch(/"status":"(succeeded|failed)"/);
      expectClean(view);
      const events = await (await get(`/v1/jobs/${id}/events`)).text();
      for (const secret of secrets) expect(events).not.toContain(secret);
    }
    const dead = await (await get('/v1/jobs/dead-letter')).text();
    for (const secret of secrets) expect(dead).not.toContain(secret);
  });

  it('in metrics and readiness', async () => {
    for (const path of ['/metrics', '/readyz']) {
      const text = await (await fetch(`${gateway.url}${path}`)).text();
      for (const secret of [...secrets, WEB_KEY]) expect(text).not.toContain(secret);
    }
  });
});
