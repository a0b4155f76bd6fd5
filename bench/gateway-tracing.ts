import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { startMockServer } from '../mock-server/http-server.ts';
import { listen } from '../src/core/http-listen.ts';
import { createLogger } from '../src/core/logger.ts';
import { ask, forkGateway } from './gateway-child.ts';
import { machine, median, recordResult } from './results.ts';

/**
 * Issue 19's cost figure: the gateway's CPU per images request with OpenTelemetry off, on
 * with 10 % of traces sampled, and on with all sampled — three gateway processes side by
 * side in front of one zero-latency mock, each exporting to an OTLP sink in this process.
 * Each round sends the same requests to each side in turn (the order rotates), after a
 * discarded warm-up round; the figure is the gateway process's own CPU time (user +
 * system, process.cpuUsage) over the round ÷ requests.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONNECTIONS = 32;
let closing = false;

interface Side {
  name: string;
  env: Record<string, string>;
  child?: ChildProcess;
  url?: string;
  usPerRequest: number[];
}

async function startGatewayProcess(upstream: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const started = await forkGateway(upstream, { TIME_SCALE: '1', LOG_LEVEL: 'warn', ...env });
  // A gateway that dies mid-bench must end the bench, not leave it waiting for an answer.
  started.child.once('exit', (code, signal) => {
    if (!closing) throw new Error(`bench gateway (${JSON.stringify(env)}) exited: ${code ?? signal}`);
  });
  return started;
}

async function load(url: string, dispatcher: Agent): Promise<void> {
  let next = 0;
  const body = JSON.stringify({ model: 'gpt-image-1.5', prompt: 'bench', quality: 'low', size: '1024x1024', output_format: 'webp' });
  const worker = async () => {
    while (next++ < REQUESTS) {
      const res = await request(`${url}/v1/images/generations`, { method: 'POST', headers: { authorization: 'Bearer sk-ratelab-dev', 'content-type': 'application/json' }, body, dispatcher });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`gateway answered ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

export async function benchGatewayTracing(): Promise<string> {
  let spansBytes = 0;
  let exports = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (spansBytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  const sinkUrl = await listen(sink, 0, '127.0.0.1');
  const mock = await startMockServer({ profile: 'zero', seed: 1, logger: createLogger({ name: 'mock', level: 'warn' }) });
  const otel = (ratio: string) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio });
  const sides: Side[] = [
    { name: 'off', env: {}, usPerRequest: [] },
    { name: 'on, 10 % sampled', env: otel('0.1'), usPerRequest: [] },
    { name: 'on, all sampled', env: otel('1'), usPerRequest: [] },
  ];
  for (const side of sides) Object.assign(side, await startGatewayProcess(mock.baseURL, side.env));
  const dispatcher = new Agent({ connections: CONNECTIONS });
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
      for (const side of order) {
        const before = await ask<{ cpu: number }>(side.child!, 'cpu');
        await load(side.url!, dispatcher);
        const after = await ask<{ cpu: number }>(side.child!, 'cpu');
        // Round 0 warms every side's code and connections; it is not counted.
        if (round > 0) side.usPerRequest.push((after.cpu - before.cpu) / REQUESTS);
      }
    }
  } finally {
    closing = true;
    await dispatcher.close();
    // The child answers `close` by closing the gateway and exiting.
    await Promise.all(sides.map((s) => new Promise((resolve) => (s.child!.once('exit', resolve), s.child!.send('close')))));
    await mock.close();
    sink.close();
  }
  const off = sides[0]!;
  const fmt = (x: number) => x.toFixed(0);
  const rows = sides.map((s) => {
    const ratio = s.usPerRequest.map((x, i) => x / off.usPerRequest[i]!);
    return `| ${s.name} | ${fmt(Math.min(...s.usPerRequest))} / **${fmt(median(s.usPerRequest))}** / ${fmt(Math.max(...s.usPerRequest))} | ${s === off ? '—' : `${(100 * (median(ratio) - 1)).toFixed(1)} % (${(100 * (Math.min(...ratio) - 1)).toFixed(1)} … ${(100 * (Math.max(...ratio) - 1)).toFixed(1)} %)`} |`;
  });
  const markdown = [
    '## Tracing cost in the gateway (issue 19; target: < 5 % of the gateway\'s CPU per request with 10 % of traces sampled)',
    '',
    `Command: \`npm run bench -- gateway-tracing\`: three gateway processes (fixed concurrency 64) in front of one zero-latency mock (\`zero\` profile, gpt-image-1.5 low 1024² webp), one with OpenTelemetry off, one exporting OTLP/HTTP protobuf with \`OTEL_TRACES_SAMPLER=parentbased_traceidratio\` at 0.1, one at 1; requests carry no traceparent, so the gateway samples. ${REQUESTS} requests over ${CONNECTIONS} connections per side per round, ${ROUNDS} rounds after a discarded warm-up, the order rotating; the gateway's own CPU (user + system) per request. The sink received ${exports} exports, ${(spansBytes / 2 ** 20).toFixed(1)} MiB.`,
    '',
    `Machine: ${machine()}.`,
    '',
    '| gateway | CPU µs per request, min / **median** / max | vs off, median of the per-round ratios (min … max) |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
  recordResult('gateway-tracing', markdown);
  return markdown;
}
