import type { RedisOptions } from 'ioredis';
import { connectRedis, type RedisConnection } from './redis-connection.ts';
import { ADMIT, CLAMP, HEARTBEAT, PAUSE, RELEASE, RESUME } from './redis-scripts.ts';

/**
 * An ioredis client (one server or a cluster) that runs the store's Lua scripts as commands
 * (EVALSHA, loaded on first use). Every script's keys share the account's `{name}` hash tag,
 * so on a cluster each runs on the one node that owns that slot.
 */
export type ScriptedRedis = RedisConnection & ScriptCommands;

interface ScriptCommands {
  ratelabAdmit(...args: (string | number)[]): Promise<[number, string, string?]>;
  ratelabRelease(...args: (string | number)[]): Promise<number>;
  ratelabPause(...args: (string | number)[]): Promise<string>;
  ratelabClamp(...args: (string | number)[]): Promise<number>;
  ratelabHeartbeat(...args: (string | number)[]): Promise<[number, string, string, string[]]>;
  ratelabResume(...args: (string | number)[]): Promise<number>;
}

const CONNECTION: RedisOptions = {
  // Fail fast while disconnected: the store falls back to a local share instead of queueing commands.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 500,
  retryStrategy: (times) => Math.min(100 * times, 1000),
};

/** The caller's client, or a new one for a URL, with the scripts defined on it. */
export function scriptedRedis(redis: RedisConnection | string): ScriptedRedis {
  const client = (typeof redis === 'string' ? connectRedis(redis, CONNECTION) : redis) as ScriptedRedis;
  // Reported through the store's fallback, not as unhandled events.
  client.on('error', () => undefined);
  client.defineCommand('ratelabAdmit', { numberOfKeys: 5, lua: ADMIT });
  client.defineCommand('ratelabRelease', { numberOfKeys: 2, lua: RELEASE });
  client.defineCommand('ratelabPause', { numberOfKeys: 1, lua: PAUSE });
  client.defineCommand('ratelabClamp', { numberOfKeys: 1, lua: CLAMP });
  client.defineCommand('ratelabHeartbeat', { numberOfKeys: 4, lua: HEARTBEAT });
  client.defineCommand('ratelabResume', { numberOfKeys: 1, lua: RESUME });
  return client;
}
