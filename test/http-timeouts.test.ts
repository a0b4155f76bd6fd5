import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';

/**
 * Slow clients are cut when the documented timeouts say, within 1 s (Node checked them only
 * every 30 s), and Node's parser rejections are answered in OpenAI's error shape. Real
 * sockets, real clocks; shortened timeouts keep the suite quick.
 */
const TIMEOUTS = { headersMs: 1_500, requestMs: 2_500, keepAliveMs: 5_000 };
let mock: RunningMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  mock = await startMockServer({ profile: 'zero', timeouts: TIMEOUTS });
  gateway = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier5-timeouts', timeouts: TIMEOUTS });
});
afterAll(async () => {
  await gateway.close(500);
  await mock.close();
});

/** Writes `first`, then `trickle` one byte every 200 ms; resolves with what came back and when the socket closed. */
function slowClient(url: string, first: string, trickle = ''): Promise<{ ms: number; answer: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const start = performance.now();
    let answer = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write(first);
      let i = 0;
      const drip = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]!);
      }, 200);
      socket.on('close', () => clearInterval(drip));
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ms: performance.now() - start, answer }));
  });
}

const servers = () => ({ mock: mock.url, gateway: gateway.url });

describe.each(['mock', 'gateway'] as const)('the %s over HTTP', (name) => {
  it('cuts a client whose headers are not in within headersTimeout (±1 s), with a 408 in OpenAI shape', async () => {
    const { ms, answer } = await slowClient(servers()[name], 'POST /v1/images/generations HTTP/1.1\r\nhost: x\r\n', 'x-slow: '.repeat(40));
    expect(Math.abs(ms - TIMEOUTS.headersMs)).toBeLessThan(1_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ type: 'invalid_request_error', code: 'request_timeout', param: null });
  });

  it('cuts a client whose body is not in within requestTimeout (±1 s)', async () => {
    const headers = 'POST /v1/images/generations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-ratelab-dev\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
    const { ms } = await slowClient(servers()[name], headers, '{"prompt":"'.padEnd(60, 'x'));
    expect(Math.abs(ms - TIMEOUTS.requestMs)).toBeLessThan(1_000);
  });

  it('answers protocol garbage and oversized headers in OpenAI shape', async () => {
    const garbage = await slowClient(servers()[name], 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.answer.slice(garbage.answer.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'invalid_http', type: 'invalid_request_error' });
    const big = await slowClient(servers()[name], `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(big.answer.slice(big.answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('headers_too_large');
  });
});
