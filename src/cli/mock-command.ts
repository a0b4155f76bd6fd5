import type { Command } from 'commander';
import { startMockServer } from '../../mock-server/http-server.ts';
import { profileSummary } from '../../mock-server/summary.ts';
import { intOption, timeScaleOption } from './options.ts';

export interface MockCommandOptions {
  port: number;
  host: string;
  profile: string;
  timeScale: number;
  seed: number;
  adminToken?: string;
}

export function registerMockCommand(program: Command): void {
  program
    .command('mock')
    .description('Run the mock OpenAI image server (latency, GPU contention, tiers, limits, faults)')
    .option('--port <port>', 'port to listen on', intOption('--port', 0, 65535), 4010)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--profile <name|file>', 'openai, article, zero, or a .yaml/.json profile file', 'openai')
    .addOption(timeScaleOption('multiply every duration (0.01: a 25 s latency takes 250 ms)'))
    .option('--seed <n>', 'seed for latency and fault draws', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--admin-token <token>', 'require x-ratelab-admin-token on /__admin (env RATELAB_ADMIN_TOKEN)', process.env.RATELAB_ADMIN_TOKEN)
    .action(async (opts: MockCommandOptions) => {
      const running = await startMockServer({
        port: opts.port,
        host: opts.host,
        profile: opts.profile,
        timeScale: opts.timeScale,
        seed: opts.seed,
        adminToken: opts.adminToken,
      });
      console.log(profileSummary(running.model.profile, { url: running.url, timeScale: opts.timeScale, seed: opts.seed }));
      const stop = (): void => {
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
