import { ConfigError } from '../core/validation.ts';
import type { GatewayConfig } from './config.ts';
import type { UpstreamSpec } from './upstreams.ts';

/** A configured upstream whose key variable is unset: refused at start, naming the variable. */
export class MissingUpstreamKey extends ConfigError {}

/**
 * The upstreams to run: the config's list (keys read from the environment, so they never
 * sit in a file), or the single `--upstream` with its key, named `default`.
 */
export function resolveUpstreams(config: GatewayConfig, single: { upstream?: string; upstreamKey?: string }, env: NodeJS.ProcessEnv): UpstreamSpec[] {
  if (config.upstreams) {
    return config.upstreams.map((u) => {
      const key = env[u.apiKeyEnv];
      if (!key) throw new MissingUpstreamKey(`Expected \`${u.apiKeyEnv}\` in the environment (the key of upstream \`${u.name}\`), got nothing`);
      return { name: u.name, baseURL: u.baseURL, key, limiter: u.limiter ?? config.limiter };
    });
  }
  if (!single.upstream || !single.upstreamKey) {
    throw new MissingUpstreamKey('Expected `upstream` and `upstreamKey` (or `upstreams` in the config), got neither');
  }
  return [{ name: 'default', baseURL: single.upstream, key: single.upstreamKey, limiter: config.limiter }];
}
