import type { Command } from 'commander';
import { profileSummary } from '../../mock-server/summary.ts';
import { DEV_CLIENT_KEY } from '../gateway/clients.ts';
import { DEFAULT_TIER } from '../../loadtests/scenarios.ts';
import { startStack } from './start-stack.ts';
import { loadGatewayConfig } from '../gateway/config.ts';
import { durationOption, intOption, timeScaleOption } from './options.ts';

interface StackCommandOptions {
  cacheTtl?: number;
  timeScale: number;
  tier: number;
  profile: string;
  config?: string;
  mockPort: number;
  gatewayPort: number;
  seed: number;
  trace?: string;
}

/** The mock (4010) and the gateway (4020) together: what load tests and local apps talk to. */
export function registerStackCommand(program: Command): void {
  program
    .command('stack')
    .description('Run the mock provider and the gateway in front of it')
    .addOption(timeScaleOption('multiply every duration'))
    .option('--tier <n>', "the account tier of the gateway's upstream key (as loadtest, sim and tune)", intOption('--tier', 0, 99), DEFAULT_TIER)
    .option('--profile <name|file>', 'mock profile', 'openai')
    .option('--config <gateway.yaml>', 'gateway config (or a plain limiter config)')
    .option('--mock-port <port>', 'mock port', intOption('--mock-port', 0, 65535), 4010)
    .option('--gateway-port <port>', 'gateway port', intOption('--gateway-port', 0, 65535), 4020)
    .option('--seed <n>', 'mock seed', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--cache-ttl <duration>', 'answer identical requests from a result cache for this long, and coalesce identical calls in flight (default off)', durationOption('--cache-ttl'))
    .option('--trace <file>', "the gateway's trace: one JSON line per images request (see schemas/trace-line.schema.json)")
    .action(async (opts: StackCommandOptions) => {
      const config = opts.config ? loadGatewayConfig(opts.config) : undefined;
      const { mock, gateway, close } = await startStack({
        profile: opts.profile,
        tier: opts.tier,
        timeScale: opts.timeScale,
        seed: opts.seed,
        mockPort: opts.mockPort,
        gatewayPort: opts.gatewayPort,
        ...(config ? { gatewayConfig: config } : {}),
        ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
        ...(opts.cacheTtl === undefined ? {} : { cacheTtlMs: opts.cacheTtl * opts.timeScale }),
        ...(opts.trace ? { trace: opts.trace } : {}),
      });
      console.log(profileSummary(mock.model.profile, { url: mock.url, timeScale: opts.timeScale, seed: opts.seed }));
      console.log(`\nratelab gateway  ${gateway.baseURL}  (tier ${opts.tier} upstream account${gateway.clients.devMode ? `; clients use ${DEV_CLIENT_KEY}, or ${DEV_CLIENT_KEY}-high, -low, -critical for those priorities` : ''}; jobs ${gateway.jobs.kind === 'bullmq' ? 'in Redis' : 'in memory'})`);
      const stop = (): void => void close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
