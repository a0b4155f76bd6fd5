import type { Command } from 'commander';
import { DEV_CLIENT_KEY } from '../gateway/clients.ts';
import { loadGatewayConfig } from '../gateway/config.ts';
import { startGateway, type RunningGateway } from '../gateway/gateway.ts';
import { parseRedisUrl, type RedisTarget } from '../limiter/redis-url.ts';
import { CliError, durationOption, intOption, isLoopbackUrl, timeScaleOption } from './options.ts';

interface GatewayCommandOptions {
  port: number;
  host: string;
  upstream: string;
  config?: string;
  timeScale: number;
  cacheTtl?: number;
  trace?: string;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('Run the OpenAI-compatible gateway: the bundled limiter in front of the provider')
    .option('--port <port>', 'port to listen on', intOption('--port', 0, 65535), 4020)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--upstream <base-url>', "the provider's base URL in the SDK's sense (ignored when the config lists upstreams)", 'http://127.0.0.1:4010/v1')
    .option('--config <gateway.yaml>', 'gateway config (upstreams, clients, jobs, limiter) or a plain limiter config (default: learn limits from the provider headers)')
    .addOption(timeScaleOption('multiply every duration of the limiter config'))
    .option('--cache-ttl <duration>', 'answer identical requests from a result cache for this long, and coalesce identical calls in flight (default off)', durationOption('--cache-ttl'))
    .option('--trace <file>', 'write one JSON line per images request to this file (no prompt, image or key; rotated at 100 MiB, 5 kept; see schemas/trace-line.schema.json)')
    .action(async (opts: GatewayCommandOptions) => {
      let url: URL;
      try {
        url = new URL(opts.upstream);
      } catch {
        throw new CliError(`Expected \`--upstream\` to be a base URL like http://127.0.0.1:4010/v1, got \`${opts.upstream}\` (string)`);
      }
      const config = opts.config ? loadGatewayConfig(opts.config) : undefined;
      const redis = redisTarget(process.env.REDIS_URL);
      const key = process.env.UPSTREAM_API_KEY ?? (isLoopbackUrl(url.href) ? 'sk-tier1-ratelab-gateway' : undefined);
      if (!key && !config?.upstreams) throw new CliError('Expected `UPSTREAM_API_KEY` in the environment for a non-local upstream, got nothing');
      const gateway = await startGateway({
        upstream: url.href,
        upstreamKey: key,
        config,
        timeScale: opts.timeScale,
        port: opts.port,
        host: opts.host,
        redisUrl: process.env.REDIS_URL,
        ...(opts.cacheTtl === undefined ? {} : { cacheTtlMs: opts.cacheTtl * opts.timeScale }),
        ...(opts.trace ? { trace: { ...config?.trace, path: opts.trace } } : {}),
      });
      printBanner(gateway, { ...opts, redis }, config?.upstreams ? 'config' : process.env.UPSTREAM_API_KEY ? 'UPSTREAM_API_KEY' : 'the mock default (sk-tier1-…)');
      const stop = (): void => void gateway.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** REDIS_URL read before anything connects, so a bad one is a message naming it, not a stack trace. */
function redisTarget(url: string | undefined): RedisTarget | undefined {
  if (url === undefined) return undefined;
  try {
    return parseRedisUrl(url);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

const redisWhere = (redis: RedisTarget | undefined): string =>
  redis?.cluster ? `REDIS_URL, a Redis Cluster (${redis.nodes.length} seed node${redis.nodes.length === 1 ? '' : 's'})` : 'REDIS_URL';

export function printBanner(gateway: RunningGateway, opts: { config?: string; timeScale: number; trace?: string; redis?: RedisTarget }, keySource: string): void {
  console.log(`ratelab gateway  ${gateway.baseURL}`);
  for (const u of gateway.upstreams.list) console.log(`  upstream  ${u.name}  →  ${u.baseURL}`);
  console.log(`  limiter   ${opts.config ?? 'defaults: limits learned from the provider headers'}${opts.timeScale === 1 ? '' : `, time scale ${opts.timeScale}`}`);
  console.log(`  jobs      ${gateway.jobs.kind === 'bullmq' ? `BullMQ on ${redisWhere(opts.redis)}; limiter budgets shared in Redis` : 'in memory (set REDIS_URL to keep them across restarts and share limits between replicas)'}`);
  if (opts.trace) console.log(`  trace     ${opts.trace} (one JSON line per images request)`);
  if (gateway.clients.devMode) console.log(`  dev mode  clients authenticate with ${DEV_CLIENT_KEY} (priority normal; ${DEV_CLIENT_KEY}-critical, -high, -low for the others)`);
  console.log(`  upstream keys from ${keySource}; they are never logged`);
}
