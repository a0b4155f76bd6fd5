import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from './config.ts';

describe('gateway config', () => {
  it('has documented defaults', () => {
    const c = parseGatewayConfig({});
    expect(c.upstreams).toBeUndefined();
    expect(c.clients).toBeUndefined();
    expect(c.jobs).toEqual({ resultTtl: 3_600_000, maxAttempts: 3, backoff: 2_000, maxWait: 86_400_000, concurrency: 64, lockDuration: 30_000, maxSubscribers: 1_000, prefix: 'ratelab' });
    expect(c.redis).toEqual({ leaseTtl: 15_000 });
    expect(c.cacheTtl).toBe(0);
    expect(c.limiter.queue.maxSize).toBeGreaterThan(0);
    expect(c.trace).toBeUndefined();
    expect(parseGatewayConfig({ trace: { path: 'trace.jsonl' } }).trace).toEqual({ path: 'trace.jsonl', maxBytes: 100 * 1024 * 1024, keep: 5 });
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
    expect(() => parseGatewayConfig({ trace: { path: 't.jsonl', maxBytes: 10 } })).toThrow('Expected `trace.maxBytes` to be an integer >= 1024, got `10` (number)');
    expect(() => parseGatewayConfig({ trace: {} })).toThrow('Expected `trace.path` to be a file path, got `undefined` (undefined)');
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

describe('client identities', () => {
  it('refuses two clients with one name, naming both entries', () => {
    const clients = [
      { name: 'web', key: 'sk-web-0000000001' },
      { name: 'batch', key: 'sk-batch-00000001' },
      { name: 'web', key: 'sk-web-0000000002' },
    ];
    expect(() => parseGatewayConfig({ clients })).toThrow('Expected client names to be unique, got `web` at clients.0 and clients.2');
  });

  it('refuses two clients with one key, without printing the key', () => {
    const clients = [
      { name: 'web', key: 'sk-shared-secret-1' },
      { name: 'batch', key: 'sk-shared-secret-1' },
    ];
    const error = (() => {
      try {
        parseGatewayConfig({ clients });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(error.message).toBe('Expected every client to have its own key, got the same key at clients.0 (`web`) and clients.1 (`batch`)');
    expect(error.message).not.toContain('sk-shared-secret-1');
  });
});

