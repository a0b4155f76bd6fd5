import { describe, expect, it } from 'vitest';
import { hashTagged, isClusterUrl, parseRedisUrl } from './redis-url.ts';

describe('parseRedisUrl', () => {
  it('reads one server as ioredis does, with its password for the redactor', () => {
    expect(parseRedisUrl('redis://:s3cret@10.0.0.5:6380/2')).toEqual({ cluster: false, url: 'redis://:s3cret@10.0.0.5:6380/2', password: 's3cret' });
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ cluster: false, url: 'redis://127.0.0.1:6379' });
    expect(isClusterUrl('rediss://cache.example:6380')).toBe(false);
  });

  it('reads a cluster as its seed nodes, credentials and TLS', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002')).toEqual({
      cluster: true,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@redis-0.redis:6379/')).toEqual({ cluster: true, nodes: [{ host: 'redis-0.redis', port: 6379 }], username: 'app', password: 'p@ss', tls: true });
    expect(parseRedisUrl('REDIS+CLUSTER://:pw@h:1')).toMatchObject({ cluster: true, password: 'pw' });
  });

  it('refuses a cluster URL without nodes or with a bad node, naming it and hiding the password', () => {
    expect(() => parseRedisUrl('redis+cluster://:hunter2@')).toThrow('Expected REDIS_URL to name at least one cluster node, like redis+cluster://127.0.0.1:7000,127.0.0.1:7001, got `redis+cluster://***@`');
    expect(() => parseRedisUrl('redis+cluster://h1:7000,h2:port')).toThrow('Expected each cluster node in REDIS_URL as host:port, got `h2:port`');
  });
});

describe('hashTagged', () => {
  it('wraps a prefix in a hash tag once', () => {
    expect(hashTagged('ratelab')).toBe('{ratelab}');
    expect(hashTagged('{team-a}')).toBe('{team-a}');
    expect(hashTagged('team:{a}')).toBe('team:{a}');
  });
});
