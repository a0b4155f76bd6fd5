import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url.ts';

/** One Redis or a Redis Cluster: every command the store and the jobs send exists on both. */
export type RedisConnection = Redis | Cluster;

/**
 * A connection for a REDIS_URL with the caller's options: a `Redis`, or a `Cluster` whose
 * node connections take those options (the queue-while-offline choice applies to the
 * cluster as a whole, where ioredis reads it).
 */
export function connectRedis(url: string, options: RedisOptions): RedisConnection {
  const target = parseRedisUrl(url);
  if (!target.cluster) return new Redis(url, options);
  const { enableOfflineQueue, ...nodeOptions } = options;
  const seeds: ClusterNode[] = target.nodes;
  return new Cluster(seeds, {
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    redisOptions: {
      ...nodeOptions,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    // A failover moves slots: ask the cluster again soon rather than after ioredis's default 1 s.
    retryDelayOnMoved: 50,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
  });
}
