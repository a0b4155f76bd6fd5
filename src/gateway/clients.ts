import { ConfigError } from '../core/validation.ts';
import { gcraParams, gcraTake, gcraWait, type GcraParams, type GcraState } from '../limiter/gcra.ts';
import type { PriorityName } from '../limiter/limiter.ts';
import type { ClientConfig } from './config.ts';

export interface GatewayClient {
  name: string;
  priority: PriorityName;
}

export const DEV_CLIENT_KEY = 'sk-ratelab-dev';

interface Entry extends GatewayClient {
  quota: { params: GcraParams; state: GcraState; images: number } | undefined;
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
    const list: readonly ClientConfig[] = entries ?? [{ name: 'dev', key: DEV_CLIENT_KEY, priority: 'normal' }];
    for (const c of list) {
      const key = c.key ?? env[c.keyEnv!];
      if (!key) throw new MissingClientKey(`Expected \`${c.keyEnv}\` in the environment (the key of client \`${c.name}\`), got nothing`);
      const quota = c.quota ? { params: gcraParams(c.quota.images, c.quota.period, c.quota.images), state: { tat: now }, images: c.quota.images } : undefined;
      this.byKey.set(key, { name: c.name, priority: c.priority, quota });
    }
  }

  get devMode(): boolean {
    return this.byKey.has(DEV_CLIENT_KEY) && this.byKey.size === 1;
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
