import { startMockServer, type RunningMockServer } from '../../mock-server/http-server.ts';
import { createLogger } from '../core/logger.ts';
import type { GatewayConfig } from '../gateway/config.ts';
import { startGateway, type RunningGateway } from '../gateway/gateway.ts';
import { loadProfile } from '../../mock-server/profiles/index.ts';
import { checkTier, loadTestCapacity } from '../sim/capacity.ts';

export interface StackOptions {
  profile: string;
  tier: number;
  timeScale: number;
  seed: number;
  gatewayConfig?: GatewayConfig;
  /** 0 (default): any free port. */
  mockPort?: number;
  gatewayPort?: number;
  cacheTtlMs?: number;
  redisUrl?: string;
  /** The gateway's trace file (one JSON line per images request); overrides the config's. */
  trace?: string;
  /**
   * Log level of the mock and the gateway. Default LOG_LEVEL, else `info`; a load test's
   * embedded stack passes `warn`, so request lines do not bury its progress.
   */
  logLevel?: string;
  /** Refuse a tier whose accounts cannot use the profile's default model (load tests need one that can). Default false: any tier of the profile. */
  requireAccess?: boolean;
}

export interface RunningStack {
  mock: RunningMockServer;
  gateway: RunningGateway;
  /** Images per minute the gateway's upstream account sustains at scale 1: its tier's IPM. */
  capacity: number | undefined;
  /** The model load tests ask for: the profile's default. */
  model: string;
  close(): Promise<void>;
}

/** The mock and, in front of it, the gateway with a key of the chosen tier: what `stack` and the load tests run. */
export async function startStack(o: StackOptions): Promise<RunningStack> {
  checkTier(loadProfile(o.profile), o.tier, o.requireAccess ?? false);
  const level = process.env.LOG_LEVEL ?? o.logLevel;
  const mock = await startMockServer({ profile: o.profile, timeScale: o.timeScale, seed: o.seed, port: o.mockPort ?? 0, logger: createLogger({ name: 'mock', ...(level ? { level } : {}) }), ...(o.gatewayConfig?.otel ? { otel: { ...o.gatewayConfig.otel, serviceName: undefined } } : {}) });
  try {
    const gateway = await startGateway({
      upstream: mock.baseURL,
      upstreamKey: `sk-tier${o.tier}-stack`,
      ...(level ? { logLevel: level } : {}),
      timeScale: o.timeScale,
      // The gateway knows the models as this mock does (the article's gpt-image-1 is still running there).
      catalogue: mock.model.catalogue,
      models: mock.model.served,
      port: o.gatewayPort ?? 0,
      ...(o.gatewayConfig ? { config: o.gatewayConfig } : {}),
      ...(o.cacheTtlMs === undefined ? {} : { cacheTtlMs: o.cacheTtlMs }),
      ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}),
      ...(o.trace ? { trace: { ...o.gatewayConfig?.trace, path: o.trace } } : {}),
    });
    return {
      mock,
      gateway,
      capacity: loadTestCapacity(mock.model.profile, o.tier)?.imagesPerMinute,
      model: mock.model.profile.defaultModel,
      close: async () => {
        await gateway.close();
        await mock.close();
      },
    };
  } catch (error) {
    await mock.close();
    throw error;
  }
}
