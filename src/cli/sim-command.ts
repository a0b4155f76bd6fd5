import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadLimiterConfig } from '../limiter/config.ts';
import { textSummary } from '../report/text-summary.ts';
import { runSim } from '../sim/run-sim.ts';
import { simLoadOf, simTargetOptions, type SimTarget } from './sim-options.ts';
import { intOption } from './options.ts';

interface SimCommandOptions extends SimTarget {
  limiter?: string;
  seed: number;
  out?: string;
}

export function registerSimCommand(program: Command): void {
  simTargetOptions(program.command('sim'))
    .description('Simulate a scenario on a virtual clock: the mock model and the limiter, seeded, in seconds')
    .option('--limiter <limiter.yaml|none>', "limiter config (default: the gateway's defaults); none = straight to the provider")
    .option('--seed <n>', 'seed', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--out <summary.json>', "write the summary (k6's handleSummary shape)")
    .action(async (o: SimCommandOptions, cmd: Command) => {
      const limiter = o.limiter === undefined ? undefined : o.limiter === 'none' ? 'none' : loadLimiterConfig(o.limiter);
      const { scenario, mix, replay } = simLoadOf(o, (option) => cmd.getOptionValueSource(option) === 'cli');
      const r = await runSim({ scenario, profile: o.profile, tier: o.tier, seed: o.seed, mix, ...(limiter ? { limiter } : {}) });
      const json = `${JSON.stringify(r.summary, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, json);
      const rl = r.summary.ratelab;
      if (replay?.skipped) console.log(`  ${replay.skipped} traced requests left out: the gateway could not read them, so they have no class to send`);
      console.log(textSummary(r.summary, `ratelab sim ${replay ? `--trace ${o.trace}` : o.scenario} (seed ${o.seed}, ${r.plan.description}, mix ${mix.name})`));
      console.log(`  simulated ${(r.run.durationMs / 1000).toFixed(0)} s and ${r.upstreamRequests} provider requests in ${r.wallMs.toFixed(0)} ms; goodput ${rl.goodputImagesPerMinute.toFixed(1)} images/min${o.out ? `; wrote ${o.out}` : ''}`);
    });
}
