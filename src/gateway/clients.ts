import { ConfigError } from '../core/validation.ts';
import { gcraParams, gcraTake, gcraWait, type GcraParams, type GcraState } from '../limiter/gcra.ts';
import { PRIORITY_NAMES, type PriorityName } from '../limiter/types.ts';
import type { ClientConfig } from './config.ts';

export interface GatewayClient {
  name: string;
  priority: PriorityName;
}

export const DEV_CLIENT_KEY = 'sk-ratelab-dev';

/**
 * Without configured clients, one dev client per priority: `sk-ratelab-dev` is `normal`,
 * `sk-ratelab-dev-<priority>` the others, so a load test's mix can send classes at their
 * priorities (loadtests/mixes.ts `apiKeyFor`) against a gateway nobody configured.
 */
export const DEV_CLIENTS: readonly ClientConfig[] = PRIORITY_NAMES.map((priority) =>
  priority === 'normal' ? { name: 'dev', key: DEV_CLIENT_KEY, priority } : { name: `dev-${priority}`, key: `${DEV_CLIENT_KEY}-${priority}`, priority },
);

interface Entry extends GatewayClient {
  quota: { params: GcraParams; state: GcraState; images: number } | undefined;
}

/**
 * Client names are the owners of async jobs, so two clients with one name could read and
 * cancel each other's jobs: refused, naming both entries.
 */
export function uniqueNames(list: readonly { name: string }[]): void {
  const seen = new Map<string, number>();
  for (const [index, c] of list.entries()) {
    const first = seen.get(c.name);
    if (first !== undefined) throw new ConfigError(`Expected client names to be unique, got \`${c.name}\` at clients.${first} and clients.${index}`);
    seen.set(c.name, index);
  }
}

/** A client configured with `keyEnv` whose variable is unset: refused at start, not at first request. */
export class MissingClientKey extends ConfigError {}

/**
 * Bearer keys of the gateway's own clients, each with a priority and an optional quota of
 * images per period (GCRA: the whole quota may be used at once, then it refills evenly).
 * Without a configured list, only the dev key. Quotas are per gateway process.
 */
export class Clients {
  private readonly byKey = new Map<string, Entry>();

  constructor(
    entries?: readonly ClientConfig[],
    env: NodeJS.ProcessEnv = process.env,
    now = Date.now(),
  ) {
    const list: readonly ClientConfig[] = entries ?? DEV_CLIENTS;
    uniqueNames(list);
    const owners = new Map<string, { name: string; index: number }>();
    for (const [index, c] of list.entries()) {
      const key = c.key ?? env[c.keyEnv!];
      if (!key) throw new MissingClientKey(`Expected \`${c.keyEnv}\` in the environment (the key of client \`${c.name}\`), got nothing`);
      // Keys read from the environment can repeat even when the file's do not; the key itself is never printed.
      const owner = owners.get(key);
      if (owner) throw new ConfigError(`Expected every client to have its own key, got the same key for \`${owner.name}\` (clients.${owner.index}) and \`${c.name}\` (clients.${index})`);
      owners.set(key, { name: c.name, index });
      const quota = c.quota ? { params: gcraParams(c.quota.images, c.quota.period, c.quota.images), state: { tat: now }, images: c.quota.images } : undefined;
      this.byKey.set(key, { name: c.name, priority: c.priority, quota });
    }
  }

  /** Every client key: secrets to keep out of every answer. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** No clients configured: only the dev keys open the gateway. */
  get devMode(): boolean {
    return this.byKey.size === DEV_CLIENTS.length && DEV_CLIENTS.every((c) => this.byKey.has(c.key!));
  }

  identify(authorization: string | undefined): GatewayClient | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    return this.byKey.get(authorization.slice(7).trim());
  }

  /** Takes `images` from the client's quota; returns ms until they would fit (0 = taken, Infinity = never). */
  takeQuota(client: GatewayClient, images: number, now: number): number {
    const quota = (client as Entry).quota;
    if (!quota) return 0;
    const wait = gcraWait(quota.state, quota.params, images, now);
    if (wait === 0) gcraTake(quota.state, quota.params, images, now);
    return wait;
  }
}
