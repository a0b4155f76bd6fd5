import OpenAI, { AuthenticationError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { loadProfile } from '../mock-server/profiles/index.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import type { JobView } from '../src/gateway/jobs/types.ts';

const SCALE = 0.01;
const env = { PRIMARY_KEY: 'sk-tier5-primary-secret-1a2b', BACKUP_KEY: 'sk-tier5-backup-secret-3c4d', BATCH_KEY: 'sk-batch-client-5e6f' };
const WEB = 'sk-web-client-0001';
let primary: RunningMockServer;
let backup: RunningMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  const profile = loadProfile('openai', { pool: { background: { kind: 'none' } } });
  primary = await startMockServer({ timeScale: SCALE, profile, seed: 21 });
  backup = await startMockServer({ timeScale: SCALE, profile, seed: 22 });
  gateway = await startGateway({
    timeScale: SCALE,
    env,
    config: {
      limiter: { circuit: { minimumRequests: 2, window: 4, openFor: '10m' }, retry: { maxAttempts: 2, baseDelay: '100ms' } },
      upstreams: [
        { name: 'primary', baseURL: primary.baseURL, apiKeyEnv: 'PRIMARY_KEY' },
        { name: 'backup', baseURL: backup.baseURL, apiKeyEnv: 'BACKUP_KEY' },
      ],
      clients: [
        { name: 'web', key: WEB, priority: 'high' },
        { name: 'batch', keyEnv: 'BATCH_KEY', priority: 'low', quota: { images: 3, period: '1h' } },
      ],
      jobs: { maxAttempts: 2, backoff: '1s' },
    },
  });
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([primary.close(), backup.close()]);
});

const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: gateway.baseURL, maxRetries: 0 });
const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

describe('gateway clients from config', () => {
  it('accepts configured keys, and only those (the dev key is off once clients are configured)', async () => {
    const { response } = await sdk(WEB).images.generate({ model: 'gpt-image-1.5', prompt: 'web', quality: 'low' }).withResponse();
    expect(response.status).toBe(200);
    await expect(sdk('sk-ratelab-dev').images.generate({ model: 'gpt-image-1.5', prompt: 'x' })).rejects.toBeInstanceOf(AuthenticationError);
    expect(gateway.clients.devMode).toBe(false);
  });

  it("enforces a client's image quota with its own code and retry-after", async () => {
    const batch = sdk(env.BATCH_KEY);
    await batch.images.generate({ model: 'gpt-image-1.5', prompt: 'b', quality: 'low', n: 2 });
    await batch.images.generate({ model: 'gpt-image-1.5', prompt: 'b', quality: 'low' });
    const error = await batch.images.generate({ model: 'gpt-image-1.5', prompt: 'b', quality: 'low' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).code).toBe('client_quota_exceeded');
    expect((error as RateLimitError).type).toBe('ratelab_gateway_error');
    expect(Number((error as RateLimitError).headers?.get('retry-after'))).toBeGreaterThan(1000);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/ratelab_gateway_responses_total\{route="images",status="429",source="gateway"\} 1\n/);
  });
});

describe('gateway async jobs (memory)', () => {
  it('submit → events → result; other clients cannot see the job', async () => {
    const res = await fetch(`${gateway.baseURL}/jobs/images`, { method: 'POST', headers: headers(WEB), body: JSON.stringify({ prompt: 'async fox', quality: 'low', output_format: 'webp' }) });
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ object: 'ratelab.image_job', status: 'queued', client: 'web', priority: 'high', max_attempts: 2 });
    const stream = await fetch(`${gateway.baseURL}/jobs/${job.id}/events`, { headers: headers(WEB) });
    const events = (await stream.text()).split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    expect(events).toEqual(['queued', 'started', 'succeeded']);
    const done = (await (await fetch(`${gateway.baseURL}/jobs/${job.id}`, { headers: headers(WEB) })).json()) as JobView;
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, dead_letter: false });
    expect((done.result as { data: { b64_json: string }[] }).data[0]!.b64_json.length).toBeGreaterThan(100);
    const other = await fetch(`${gateway.baseURL}/jobs/${job.id}`, { headers: headers(env.BATCH_KEY) });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('job_not_found');
  });

  it('DELETE cancels a job that has not finished', async () => {
    // Slow the provider down so the job is still running when cancelled.
    await fetch(`${primary.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', factor: 50 }) });
    await fetch(`${backup.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', factor: 50 }) });
    try {
      const job = (await (await fetch(`${gateway.baseURL}/jobs/images`, { method: 'POST', headers: headers(WEB), body: JSON.stringify({ prompt: 'slow', quality: 'low' }) })).json()) as JobView;
      await new Promise((r) => setTimeout(r, 50));
      const cancelled = await fetch(`${gateway.baseURL}/jobs/${job.id}`, { method: 'DELETE', headers: headers(WEB) });
      expect(((await cancelled.json()) as JobView).status).toBe('cancelled');
      const events = await (await fetch(`${gateway.baseURL}/jobs/${job.id}/events`, { headers: headers(WEB) })).text();
      expect(events).toContain('event: cancelled');
    } finally {
      await fetch(`${primary.url}/__admin/faults`, { method: 'DELETE' });
      await fetch(`${backup.url}/__admin/faults`, { method: 'DELETE' });
    }
  });

  it('answers unknown job ids and wrong methods in OpenAI shape', async () => {
    const missing = await fetch(`${gateway.baseURL}/jobs/job_00000000-0000-0000-0000-000000000000`, { headers: headers(WEB) });
    expect(missing.status).toBe(404);
    const put = await fetch(`${gateway.baseURL}/jobs/images`, { method: 'PUT', headers: headers(WEB) });
    expect(put.status).toBe(405);
    expect(((await put.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('several upstreams', () => {
  it('fails over to the next upstream when one is down, and labels metrics by name, never by key', async () => {
    await fetch(`${primary.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'outage', status: 502 }) });
    try {
      const served: string[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${gateway.baseURL}/images/generations`, { method: 'POST', headers: headers(WEB), body: JSON.stringify({ prompt: `failover ${i}`, quality: 'low' }) });
        served.push(`${res.status}:${res.headers.get('x-ratelab-upstream')}`);
      }
      // The primary fails twice on the first request, which opens its circuit: that request and all after it go to the backup.
      expect(gateway.upstreams.list[0]!.limiter.circuitState()).toBe('open');
      expect(served).toEqual(Array(8).fill('200:backup'));
      const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as { status: string; circuits: Record<string, string> };
      expect(ready).toMatchObject({ status: 'ready', circuits: { primary: 'open', backup: 'closed' } });
    } finally {
      await fetch(`${primary.url}/__admin/faults`, { method: 'DELETE' });
    }
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('ratelab_limiter_circuit_state{upstream="primary"} 2');
    expect(metrics).toContain('ratelab_limiter_circuit_state{upstream="backup"} 0');
    expect(metrics).toMatch(/ratelab_gateway_responses_total\{route="images",status="200",source="upstream"\} \d+/);
    expect(metrics).toMatch(/ratelab_gateway_jobs_total\{event="succeeded"\} \d+/);
    for (const key of Object.values(env)) expect(metrics).not.toContain(key);
  });
});
