import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { listen } from '../src/core/http-listen.ts';
import { ask, forkGateway } from './gateway-child.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * Issue 12's three figures, each side by side in one run, several rounds:
 * 1. time to the first partial image of a streamed generation, from the mock directly and
 *    through the gateway (in its own process) in front of the same mock;
 * 2. edits of 16 × 1 MB images per second, through the gateway into an upload sink vs into
 *    the bare sink directly (node:http that reads the body and answers);
 * 3. the gateway's RSS while it takes uploads of 16 × 20 MB, against its idle RSS.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STREAMS = 40;
const UPLOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const UPLOAD_CONNECTIONS = 4;
const MB = 1024 * 1024;

const startGatewayProcess = (upstream: string) => forkGateway(upstream, { TIME_SCALE: '0.01' });

/** ms from sending a streamed generation to its first partial image event. */
async function timeToFirstPartial(base: string, key: string): Promise<number> {
  const start = performance.now();
  const res = await request(`${base}/v1/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-image-2', prompt: 'bench', quality: 'low', stream: true, partial_images: 2 }),
  });
  let first = NaN;
  let text = '';
  for await (const chunk of res.body) {
    text += chunk.toString();
    if (Number.isNaN(first) && text.includes('partial_image')) first = performance.now() - start;
  }
  if (res.statusCode !== 200 || Number.isNaN(first)) throw new Error(`stream: ${res.statusCode} ${text.slice(0, 200)}`);
  return first;
}

/** A multipart edit of `count` images of `bytes` each, as a stream (never built whole in memory). */
function editBody(count: number, bytes: number): { contentType: string; length: number; chunks: () => AsyncGenerator<Buffer> } {
  const boundary = 'ratelabbench';
  // A real PNG header (512x512) padded to size: the gateway reads type and size from the header.
  const image = Buffer.alloc(bytes);
  Buffer.from('89504e470d0a1a0a0000000d4948445200000200000002000806000000', 'hex').copy(image);
  const head = (name: string, file?: string) => Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"${file ? `; filename="${file}"\r\ncontent-type: image/png` : ''}\r\n\r\n`);
  const fields = Buffer.concat([head('model'), Buffer.from('gpt-image-1.5\r\n'), head('prompt'), Buffer.from('bench\r\n'), head('quality'), Buffer.from('low\r\n')]);
  const part = head('image[]', 'ref.png');
  const crlf = Buffer.from('\r\n');
  const end = Buffer.from(`--${boundary}--\r\n`);
  const length = fields.length + count * (part.length + image.length + crlf.length) + end.length;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    chunks: async function* () {
      yield fields;
      for (let i = 0; i < count; i++) {
        yield part;
        for (let at = 0; at < image.length; at += MB) yield image.subarray(at, at + MB);
        yield crlf;
      }
      yield end;
    },
  };
}

async function sendEdit(base: string, body: ReturnType<typeof editBody>): Promise<void> {
  const res = await request(`${base}/v1/images/edits`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-ratelab-dev', 'content-type': body.contentType, 'content-length': String(body.length) },
    body: Readable.from(body.chunks()),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`edit: ${res.statusCode} ${text.slice(0, 200)}`);
}

/** Edits per second over `seconds` with `connections` uploading back to back. */
async function editsPerSecond(base: string, body: ReturnType<typeof editBody>): Promise<number> {
  const until = performance.now() + UPLOAD_SECONDS * 1000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: UPLOAD_CONNECTIONS }, async () => {
      while (performance.now() < until) {
        await sendEdit(base, body);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** node:http that reads the whole upload and answers a small images response: the bare baseline. */
async function startSink(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"created":1,"data":[{"b64_json":"AAAA"}],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}');
    });
  });
  return { server, url: await listen(server) };
}

const stat = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
const f1 = (x: number) => x.toFixed(1);

export async function benchImagesApi(): Promise<string> {
  const mock = await startMockServer({ profile: loadProfile('openai', { latency: { p50: '8s', p95: '8s', p99: '8s', min: 0 }, pool: { background: { kind: 'none' } } }), timeScale: 0.01 });
  const sink = await startSink();
  const viaMock = await startGatewayProcess(mock.baseURL);
  const viaSink = await startGatewayProcess(`${sink.url}/v1`);
  try {
    // 1. Time to first partial, alternating direct and through the gateway.
    const direct: number[] = [];
    const relayed: number[] = [];
    const roundMedians: { direct: number; relayed: number }[] = [];
    await timeToFirstPartial(mock.url, 'sk-tier5-warm');
    await timeToFirstPartial(viaMock.url, 'sk-ratelab-dev');
    for (let r = 0; r < ROUNDS; r++) {
      const d: number[] = [];
      const g: number[] = [];
      for (let i = 0; i < STREAMS; i++) {
        d.push(await timeToFirstPartial(mock.url, `sk-tier5-r${r}`));
        g.push(await timeToFirstPartial(viaMock.url, 'sk-ratelab-dev'));
      }
      direct.push(...d);
      relayed.push(...g);
      roundMedians.push({ direct: median(d), relayed: median(g) });
    }
    const added = roundMedians.map((m) => m.relayed - m.direct);

    // 2. Edits of 16 × 1 MB: bare sink vs the gateway in front of it, alternating.
    const small = editBody(16, MB);
    await sendEdit(sink.url, small);
    await sendEdit(viaSink.url, small);
    const bare: number[] = [];
    const gw: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bare.push(await editsPerSecond(sink.url, small));
      gw.push(await editsPerSecond(viaSink.url, small));
    }
    const ratios = bare.map((b, i) => gw[i]! / b);

    // 3. RSS while two 16 × 20 MB uploads pass through at once.
    const big = editBody(16, 20 * MB);
    await sendEdit(viaSink.url, editBody(1, MB));
    const idle = (await ask<{ rss: number }>(viaSink.child, 'rss')).rss;
    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await ask<{ rss: number }>(viaSink.child, 'rss')).rss);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const bigStart = performance.now();
    await Promise.all([sendEdit(viaSink.url, big), sendEdit(viaSink.url, big)]);
    const bigSeconds = (performance.now() - bigStart) / 1000;
    sampling = false;
    await sampler;

    const rows = [
      '## Today\'s images API through the gateway (issue 12; targets: stream relay adds < 5 ms to time to first partial, 16 × 1 MB edits ≥ 0.5× a bare upload sink, RSS within 64 MB of idle with 16 × 20 MB uploads)',
      '',
      `Command: \`npm run bench -- images-api\`: the gateway in its own process (fixed concurrency 64); the mock (gpt-image-2 low, first partial at 30 % of a 3.3 s generation at scale 0.01), the sink and the client in this one. ${ROUNDS} rounds, alternating.`,
      `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| figure | direct | through the gateway | result |',
      '|---|---|---|---|',
      `| time to first partial, ms (min / median / max of ${ROUNDS * STREAMS} streams) | ${f1(stat(direct).min)} / ${f1(stat(direct).median)} / ${f1(stat(direct).max)} | ${f1(stat(relayed).min)} / ${f1(stat(relayed).median)} / ${f1(stat(relayed).max)} | **+${f1(median(added))} ms** median added (rounds: ${added.map(f1).join(', ')}) |`,
      `| edits of 16 × 1 MB per s, ${UPLOAD_CONNECTIONS} connections, ${UPLOAD_SECONDS} s per round (rounds) | ${bare.map(f1).join(', ')} | ${gw.map(f1).join(', ')} | **${median(ratios).toFixed(2)}×** of the bare sink (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}) |`,
      `| gateway RSS with two 16 × 20 MB edits at once (${f1((2 * big.length) / MB)} MB in ${f1(bigSeconds)} s) | idle ${f1(idle / MB)} MB | peak ${f1(peak / MB)} MB | **+${f1((peak - idle) / MB)} MB** |`,
      '',
      'The gateway parses each upload as it streams (busboy), keeps only the first 256 KB of every file to read its type and size, spools the raw body to a temporary file and streams it from there to the provider on each attempt, with its content-length. A relayed stream is written to the client chunk by chunk as the provider sends it.',
    ];
    const markdown = rows.join('\n');
    recordResult('images-api', markdown);
    return markdown;
  } finally {
    viaMock.child.send('close');
    viaSink.child.send('close');
    await mock.close();
    sink.server.closeAllConnections();
    sink.server.close();
  }
}
