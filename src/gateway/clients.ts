import type { PriorityName } from '../limiter/limiter.ts';

export interface GatewayClient {
  name: string;
  priority: PriorityName;
}

export const DEV_CLIENT_KEY = 'sk-ratelab-dev';

/** Bearer keys of the gateway's own clients; without a configured list, only the dev key. */
export class Clients {
  private readonly byKey: Map<string, GatewayClient>;

  constructor(entries?: ReadonlyArray<GatewayClient & { key: string }>) {
    const list = entries ?? [{ key: DEV_CLIENT_KEY, name: 'dev', priority: 'normal' as const }];
    this.byKey = new Map(list.map(({ key, ...client }) => [key, client]));
  }

  get devMode(): boolean {
    return this.byKey.has(DEV_CLIENT_KEY) && this.byKey.size === 1;
  }

  identify(authorization: string | undefined): GatewayClient | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    return this.byKey.get(authorization.slice(7).trim());
  }
}
