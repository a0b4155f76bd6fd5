// Pure parsing, without ioredis: the gateway reads a URL's password before it decides to load Redis at all.

/** What a REDIS_URL says: one server, or a cluster's seed nodes. */
export type RedisTarget =
  | { cluster: false; url: string; password?: string }
  | { cluster: true; nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean };

const CLUSTER_SCHEMES: Record<string, boolean> = { 'redis+cluster:': false, 'rediss+cluster:': true };

/**
 * Reads a REDIS_URL. `redis://` and `rediss://` are one server (ioredis's own URL grammar);
 * `redis+cluster://[user:password@]host:port[,host:port…]` (or `rediss+cluster://` for TLS)
 * names a Redis Cluster by some of its nodes, from which ioredis learns the rest.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^[a-z+]+:/i.exec(url)?.[0].toLowerCase() ?? '';
  if (!(scheme in CLUSTER_SCHEMES)) {
    let password: string | undefined;
    try {
      password = decodeURIComponent(new URL(url).password) || undefined;
    } catch {
      // ioredis judges the URL itself
    }
    return { cluster: false, url, ...(password ? { password } : {}) };
  }
  const rest = url.slice(scheme.length).replace(/^\/\//, '').replace(/\/.*$/, '');
  const at = rest.lastIndexOf('@');
  const auth = at < 0 ? '' : rest.slice(0, at);
  const hosts = (at < 0 ? rest : rest.slice(at + 1)).split(',').filter((h) => h.length > 0);
  if (hosts.length === 0) throw new RangeError(`Expected REDIS_URL to name at least one cluster node, like redis+cluster://127.0.0.1:7000,127.0.0.1:7001, got \`${auth ? url.replace(auth, '***') : url}\``);
  const nodes = hosts.map((h) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!m) throw new RangeError(`Expected each cluster node in REDIS_URL as host:port, got \`${h}\``);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] === undefined ? 6379 : Number(m[2]) };
  });
  const colon = auth.indexOf(':');
  const username = colon < 0 ? '' : decodeURIComponent(auth.slice(0, colon));
  const password = decodeURIComponent(colon < 0 ? auth : auth.slice(colon + 1));
  return { cluster: true, nodes, ...(username ? { username } : {}), ...(password ? { password } : {}), tls: CLUSTER_SCHEMES[scheme]! };
}

/** Whether a REDIS_URL names a Redis Cluster. */
export const isClusterUrl = (url: string): boolean => parseRedisUrl(url).cluster;

/**
 * A key prefix whose keys all hash to one cluster slot: BullMQ's scripts touch several keys
 * of a queue at once, which Redis Cluster allows only within one slot (a `{hash tag}`).
 */
export const hashTagged = (prefix: string): string => (/\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`);
