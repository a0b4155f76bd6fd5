import type { Command } from 'commander';
import { DEV_CLIENT_KEY } from '../gateway/clients.ts';
import { startGateway } from '../gateway/gateway.ts';
import { loadLimiterConfig } from '../limiter/config.ts';
import { CliError, durationOption, intOption, timeScaleOption } from './options.ts';

interface GatewayCommandOptions {
  port: number;
  host: string;
  upstream: string;
  config?: string;
  timeScale: number;
  cacheTtl: number;
}

const LOOPBACK_URL = /^https?:\/\/(127\.|localhost[:/]|\[::1\])/;

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('Run the OpenAI-compatible gateway: the bundled limiter in front of the provider')
    .option('--port <port>', 'port to listen on', intOption('--port', 0, 65535), 4020)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--upstream <base-url>', "the provider's base URL in the SDK's sense", 'http://127.0.0.1:4010/v1')
    .option('--config <limiter.yaml>', 'limiter config (default: learn limits from the provider headers)')
    .addOption(timeScaleOption('multiply every duration of the limiter config'))
    .option('--cache-ttl <duration>', 'answer identical requests from a result cache for this long, and coalesce identical calls in flight (default off)', durationOption('--cache-ttl'), 0)
    .action(async (opts: GatewayCommandOptions) => {
      let url: URL;
      try {
        url = new URL(opts.upstream);
      } catch {
        throw new CliError(`Expected \`--upstream\` to be a base URL like http://127.0.0.1:4010/v1, got \`${opts.upstream}\` (string)`);
      }
      const key = process.env.UPSTREAM_API_KEY ?? (LOOPBACK_URL.test(url.href) ? 'sk-tier1-ratelab-gateway' : undefined);
      if (!key) throw new CliError('Expected `UPSTREAM_API_KEY` in the environment for a non-local upstream, got nothing');
      const limiter = opts.config ? loadLimiterConfig(opts.config) : undefined;
      const gateway = await startGateway({ upstream: url.href, upstreamKey: key, limiter, timeScale: opts.timeScale, port: opts.port, host: opts.host, cacheTtlMs: opts.cacheTtl * opts.timeScale });
      console.log(`ratelab gateway  ${gateway.baseURL}  →  ${url.origin}${url.pathname}`);
      console.log(`  limiter   ${opts.config ?? 'defaults: limits learned from the provider headers'}${opts.timeScale === 1 ? '' : `, time scale ${opts.timeScale}`}`);
      if (gateway.clients.devMode) console.log(`  dev mode  clients authenticate with ${DEV_CLIENT_KEY}`);
      console.log(`  upstream key from ${process.env.UPSTREAM_API_KEY ? 'UPSTREAM_API_KEY' : 'the mock default (sk-tier1-…)'}; it is never logged`);
      const stop = (): void => void gateway.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
