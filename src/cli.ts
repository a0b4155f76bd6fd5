#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerGatewayCommand } from './cli/gateway-command.ts';
import { registerMockCommand } from './cli/mock-command.ts';
import { registerStackCommand } from './cli/stack-command.ts';
import { registerLoadtestCommand } from './cli/loadtest-command.ts';
import { registerCompareCommand } from './cli/compare-command.ts';
import { registerSimCommand } from './cli/sim-command.ts';
import { registerTuneCommand } from './cli/tune-command.ts';
import { registerCalibrateCommand } from './cli/calibrate-command.ts';
import { registerPlanCommand } from './cli/plan-command.ts';
import { registerMergeCommand } from './cli/merge-command.ts';
import { CliError } from './cli/options.ts';
import { ConfigError } from './core/validation.ts';

/** `ratelab`: the npm scripts are thin aliases over these commands. */
export function buildProgram(): Command {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('ratelab')
    .description('Capacity lab for rate-limited, GPU-bound image-generation APIs')
    .version(`ratelab ${version} (node ${process.version})`, '-V, --version', 'print the version')
    .exitOverride();
  registerMockCommand(program);
  registerGatewayCommand(program);
  registerStackCommand(program);
  registerLoadtestCommand(program);
  registerMergeCommand(program);
  registerCompareCommand(program);
  registerSimCommand(program);
  registerTuneCommand(program);
  registerCalibrateCommand(program);
  registerPlanCommand(program);
  return program;
}

function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode;
  if (error instanceof ConfigError || error instanceof CliError || error instanceof RangeError) {
    console.error(`ratelab: ${error.message}`);
    return 2;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    console.error(`ratelab: ${(error as Error).message}`);
    return 2;
  }
  throw error;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = report(error);
  });
