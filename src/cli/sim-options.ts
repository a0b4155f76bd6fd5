import type { Command } from 'commander';
import { DEFAULT_TIER, SCENARIO_NAMES, type ScenarioName, type ScenarioPlan } from '../../loadtests/scenarios.ts';
import { DEFAULT_MIX, MIXES, type RequestMix } from '../../loadtests/mixes.ts';
import { expectationMessage } from '../core/validation.ts';
import { CliError, intOption, numberOption } from './options.ts';
import { loadMix } from '../loadgen/mix-file.ts';
import { readTrace, replayOf, type TraceReplay } from '../sim/trace-replay.ts';

/** What `sim` and `tune` simulate: a profile, an account tier and a scenario. */
export interface SimTarget {
  profile: string;
  tier: number;
  scenario: string;
  mix: string;
  trace?: string;
  rateFactor?: number;
}

export function simTargetOptions(cmd: Command): Command {
  return cmd
    .option('--profile <name|file>', 'mock profile', 'openai')
    .option('--tier <n>', 'the upstream account tier', intOption('--tier', 0, 99), DEFAULT_TIER)
    .option('--scenario <name>', SCENARIO_NAMES.join(' | '), 'peak')
    .option('--mix <name|file>', `what the iterations send: a built-in request mix (${Object.keys(MIXES).join(', ')}) or a YAML/JSON mix file`, DEFAULT_MIX)
    .option('--trace <file>', "replay a gateway trace (its arrivals and classes) instead of a scenario and a mix")
    .option('--rate-factor <k>', 'with --trace: what if traffic were k× (every arrival rate × k, shape and classes kept)', numberOption('--rate-factor', 0.01, 1000));
}

/** What a simulation sends: a scenario and a mix, or a trace's replay (which brings both). */
export interface SimLoad {
  scenario: ScenarioName | ScenarioPlan;
  mix: RequestMix;
  /** For a trace: what was replayed. */
  replay?: TraceReplay;
}

/** `--scenario`/`--mix`, or `--trace` (with `--rate-factor`); `given(name)` says whether an option was on the command line. */
export function simLoadOf(o: SimTarget, given: (option: 'scenario' | 'mix') => boolean): SimLoad {
  if (o.trace === undefined) {
    if (o.rateFactor !== undefined) throw new CliError('Expected `--rate-factor` only with `--trace`, got it without one');
    return { scenario: scenarioOf(o), mix: loadMix(o.mix) };
  }
  for (const option of ['scenario', 'mix'] as const) {
    if (given(option)) throw new CliError(`Expected either \`--trace\` or \`--${option}\`, got both (a trace brings its own arrivals and classes)`);
  }
  const replay = replayOf(readTrace(o.trace), { rateFactor: o.rateFactor });
  return { scenario: replay.plan, mix: replay.mix, replay };
}

export function scenarioOf(o: SimTarget): ScenarioName {
  if (!(SCENARIO_NAMES as readonly string[]).includes(o.scenario)) throw new CliError(expectationMessage('--scenario', `one of ${SCENARIO_NAMES.join(', ')}`, o.scenario));
  return o.scenario as ScenarioName;
}
