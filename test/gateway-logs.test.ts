import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { createLogger } from '../src/core/logger.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';

/** Lines as the gateway and the mock write them (JSON, one per event). */
class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  raw = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.raw += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

const UPSTREAM_KEY = 'sk-tier5-logged-upstream-key-9f8e';
const CLIENT_KEY = 'client-key-for-logs-0001';
const PROMPT = 'a very private prompt about a lighthouse';
let mock: RunningMockServer;
let gateway: RunningGateway;
const gatewayLog = new Lines();
const mockLog = new Lines();

beforeAll(async () => {
  mock = await startMockServer({ profile: 'zero', logger: createLogger({ name: 'mock', level: 'info', destination: mockLog }) });
  gateway = await startGateway({ upstream: mock.baseURL, upstreamKey: UPSTREAM_KEY, config: { clients: [{ name: 'web', key: CLIENT_KEY }] }, logLevel: 'info', logDestination: gatewayLog });
});
afterAll(async () => {
  await gateway.close(500);
  await mock.close();
});

describe('structured logs', () => {
  it('one JSON line per answered request: route, status, source, upstream, attempts, queue ms, latency, request id', async () => {
    const sdk = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gateway.baseURL, maxRetries: 0 });
    await sdk.images.generate({ model: 'gpt-image-2', prompt: PROMPT, quality: 'low' });
    await sdk.images.generate({ model: 'gpt-image-2', prompt: PROMPT, size: '1000x1000' }).catch(() => undefined);
    await new OpenAI({ apiKey: 'sk-wrong-key-0000', baseURL: gateway.baseURL, maxRetries: 0 }).images.generate({ model: 'gpt-image-2', prompt: PROMPT }).catch(() => undefined);
    const answered = gatewayLog.lines.filter((l) => l.msg === 'answered');
    expect(answered).toHaveLength(3);
    expect(answered[0]).toMatchObject({ name: 'gateway', level: 30, method: 'POST', route: 'images', status: 200, source: 'upstream', upstream: 'default', attempts: 1, queueMs: expect.any(Number), latencyMs: expect.any(Number), requestId: expect.stringMatching(/^req_/), completed: true });
    expect(answered[1]).toMatchObject({ route: 'images', status: 400, source: 'gateway' });
    expect(answered[2]).toMatchObject({ route: 'images', status: 401, source: 'gateway' });
    expect(mockLog.lines.filter((l) => l.msg === 'answered')).toEqual([expect.objectContaining({ name: 'mock', path: '/v1/images/generations', status: 200, requestId: answered[0]!.requestId })]);
    for (const raw of [gatewayLog.raw, mockLog.raw]) {
      for (const secret of [UPSTREAM_KEY, CLIENT_KEY, PROMPT, 'sk-wrong-key-0000']) expect(raw).not.toContain(secret);
    }
  });

  it('logs an unexpected error in the jobs routes with its stack, and answers 500 internal_error (not "job store unavailable")', async () => {
    Object.assign(gateway.jobs, {
      get: async () => {
        throw new TypeError('a bug, not Redis');
      },
    });
    const res = await fetch(`${gateway.url}/v1/jobs/job_00000000-0000-0000-0000-000000000000`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('internal_error');
    const error = gatewayLog.lines.find((l) => l.level === 50);
    expect(error).toMatchObject({ msg: 'unexpected error in the jobs routes', method: 'GET', err: { type: 'TypeError', message: 'a bug, not Redis', stack: expect.stringContaining('TypeError: a bug, not Redis') } });
  });
});
