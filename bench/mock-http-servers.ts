/**
 * Child process for bench/mock-http.ts: the mock (zero profile) and a bare node:http server
 * that answers the same bytes, so the load generator never shares an event loop with them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockServer } from '../mock-server/http-server.ts';
import { BENCH_PAYLOADS } from './mock-http-payloads.ts';

const mock = await startMockServer({ profile: 'zero' });

interface Canned {
  body: string;
  headers: Record<string, string>;
}
const canned = new Map<string, Canned>();
for (const [format, request] of Object.entries(BENCH_PAYLOADS)) {
  const sample = await fetch(`${mock.baseURL}/images/generations`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-tier1-bench', 'content-type': 'application/json' },
    body: request,
  });
  const headers: Record<string, string> = {};
  sample.headers.forEach((value, name) => {
    if (!['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)) headers[name] = value;
  });
  canned.set(format, { body: await sample.text(), headers });
}

/** Answers the canned response for the payload's format (png if the body says nothing). */
const bare = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    const { body, headers } = canned.get(text.includes('webp') ? 'webp' : 'png')!;
    res.writeHead(200, headers);
    res.end(body);
  });
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));

const sizes = Object.fromEntries([...canned].map(([format, c]) => [format, c.body.length]));
process.send!({ mock: mock.url, bare: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`, sizes });
// The parent asks for CPU time around each load phase: µs of server CPU per request.
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system });
  }
});
process.on('disconnect', () => process.exit(0));
