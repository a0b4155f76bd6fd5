import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from './config.ts';

describe('gateway config', () => {
  it('has documented defaults', () => {
    const c = parseGatewayConfig({});
    expect(c.upstreams).toBeUndefined();
    expect(c.clients).toBeUndefined();
    expect(c.jobs).toEqual({ resultTtl: 3_600_000, maxAttempts: 3, backoff: 2_000, concurrency: 64, lockDuration: 30_000, maxSubscribers: 1_000, prefix: 'ratelab' });
    expect(c.redis).toEqual({ leaseTtl: 15_000 });
    expect(c.cacheTtl).toBe(0);
    expect(c.limiter.queue.maxSize).toBeGreaterThan(0);
  });

  it('reads a plain limiter config as the gateway limiter', () => {
    const c = parseGatewayConfig({ concurrency: { mode: 'fixed', limit: 3 } });
    expect(c.limiter.concurrency).toMatchObject({ mode: 'fixed', limit: 3 });
  });

  it('names the field, the expectation and the value when wrong', () => {
    expect(() => parseGatewayConfig({ jobs: { maxAttempts: 0 } })).toThrow('Expected `jobs.maxAttempts` to be an integer >= 1, got `0` (number)');
    expect(() => parseGatewayConfig({ upstreams: [{ name: 'a', baseURL: 'not a url' }] })).toThrow('Expected `upstreams.0.baseURL` to be a base URL like http://127.0.0.1:4010/v1, got `not a url` (string)');
    expect(() => parseGatewayConfig({ upstreams: [{ name: 'a', baseURL: 'http://x/v1', apiKeyEnv: 'lower' }] })).toThrow('Expected `upstreams.0.apiKeyEnv` to be an environment variable name like UPSTREAM_API_KEY');
    expect(() => parseGatewayConfig({ clients: [{ name: 'web', priority: 'urgent', key: 'sk-web-12345' }] })).toThrow('Expected `clients.0.priority` to be one of critical, high, normal, low, got `urgent` (string)');
    expect(() => parseGatewayConfig({ clients: [{ name: 'web' }] })).toThrow('Expected `clients.0` to be an object with exactly one of `key` and `keyEnv`');
    expect(() => parseGatewayConfig({ jobs: { backof: '1s' } })).toThrow('Unknown field `backof` in jobs');
  });
});

describe('gateway.example.yaml', () => {
  it('parses, and its commented defaults are the defaults', async () => {
    const { readConfigFile } = await import('../core/config-file.ts');
    const c = parseGatewayConfig(readConfigFile('src/gateway/gateway.example.yaml', 'gateway config'));
    const defaults = parseGatewayConfig({});
    expect(c.jobs).toEqual(defaults.jobs);
    expect(c.redis).toEqual(defaults.redis);
    expect(c.cacheTtl).toBe(defaults.cacheTtl);
    expect(c.upstreams?.map((u) => u.name)).toEqual(['primary', 'backup']);
    expect(c.clients?.map((u) => [u.name, u.priority])).toEqual([['web', 'high'], ['batch', 'low']]);
  });
});
