import type { Command } from 'commander';
import { DEFAULT_TIER, SCENARIO_NAMES, type ScenarioName } from '../../loadtests/scenarios.ts';
import { DEFAULT_MIX, MIXES } from '../../loadtests/mixes.ts';
import { expectationMessage } from '../core/validation.ts';
import { CliError, intOption } from './options.ts';

/** What `sim` and `tune` simulate: a profile, an account tier and a scenario. */
export interface SimTarget {
  profile: string;
  tier: number;
  scenario: string;
  mix: string;
}

export function simTargetOptions(cmd: Command): Command {
  return cmd
    .option('--profile <name|file>', 'mock profile', 'openai')
    .option('--tier <n>', 'the upstream account tier', intOption('--tier', 0, 99), DEFAULT_TIER)
    .option('--scenario <name>', SCENARIO_NAMES.join(' | '), 'peak')
    .option('--mix <name|file>', `what the iterations send: a built-in request mix (${Object.keys(MIXES).join(', ')}) or a YAML/JSON mix file`, DEFAULT_MIX);
}

export function scenarioOf(o: SimTarget): ScenarioName {
  if (!(SCENARIO_NAMES as readonly string[]).includes(o.scenario)) throw new CliError(expectationMessage('--scenario', `one of ${SCENARIO_NAMES.join(', ')}`, o.scenario));
  return o.scenario as ScenarioName;
}
