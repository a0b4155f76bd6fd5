import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SCENARIO_NAMES, type ScenarioName } from '../../loadtests/scenarios.ts';
import { expectationMessage } from '../core/validation.ts';
import { loadLimiterConfig } from '../limiter/config.ts';
import { textSummary } from '../report/text-summary.ts';
import { runSim } from '../sim/run-sim.ts';
import { CliError, intOption } from './options.ts';

interface SimCommandOptions {
  profile: string;
  tier: number;
  scenario: string;
  limiter?: string;
  seed: number;
  out?: string;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('Simulate a scenario on a virtual clock: the mock model and the limiter, seeded, in seconds')
    .option('--profile <name|file>', 'mock profile', 'openai')
    .option('--tier <n>', 'the upstream account tier', intOption('--tier', 1, 99), 3)
    .option('--scenario <name>', SCENARIO_NAMES.join(' | '), 'peak')
    .option('--limiter <limiter.yaml|none>', "limiter config (default: the gateway's defaults); none = straight to the provider")
    .option('--seed <n>', 'seed', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--out <summary.json>', "write the summary (k6's handleSummary shape)")
    .action(async (o: SimCommandOptions) => {
      if (!(SCENARIO_NAMES as readonly string[]).includes(o.scenario)) throw new CliError(expectationMessage('--scenario', `one of ${SCENARIO_NAMES.join(', ')}`, o.scenario));
      const limiter = o.limiter === undefined ? undefined : o.limiter === 'none' ? 'none' : loadLimiterConfig(o.limiter);
      const r = await runSim({ scenario: o.scenario as ScenarioName, profile: o.profile, tier: o.tier, seed: o.seed, ...(limiter ? { limiter } : {}) });
      const json = `${JSON.stringify(r.summary, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, json);
      const rl = r.summary.ratelab as Record<string, number>;
      console.log(textSummary(r.summary, `ratelab sim ${o.scenario} (seed ${o.seed}, ${r.plan.description})`));
      console.log(`  simulated ${(r.run.durationMs / 1000).toFixed(0)} s and ${r.upstreamRequests} provider requests in ${r.wallMs.toFixed(0)} ms; goodput ${rl.goodputImagesPerMinute!.toFixed(1)} images/min${o.out ? `; wrote ${o.out}` : ''}`);
    });
}
