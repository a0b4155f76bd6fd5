import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const cli = ['bin/ratelab.js'];
const run = (args: string[]) => spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('ratelab CLI, across commands', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = run(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`ratelab ${version} (node ${process.version})`);
  });

  it.each([
    [['stack', '--tier', '9'], 'Expected `--tier` to be a tier of profile `openai` (0, 1, 2, 3, 4, 5), got `9` (number). Try --tier 5.'],
    [['loadtest', 'peak', '--tier', '9'], 'Expected `--tier` to be a tier with access to gpt-image-1.5 in profile `openai` (1, 2, 3, 4, 5), got `9` (number). Try --tier 5.'],
    [['loadtest', 'peak', '--tier', '0'], 'Expected `--tier` to be a tier with access to gpt-image-1.5 in profile `openai` (1, 2, 3, 4, 5), got `0` (number). Try --tier 1.'],
    [['sim', '--tier', '7'], 'Expected `--tier` to be a tier with access to gpt-image-1.5 in profile `openai` (1, 2, 3, 4, 5), got `7` (number). Try --tier 5.'],
    [['compare', 'peak', '--rate', '3'], 'Expected no `--rate` for compare (it runs the built-in scenarios; use loadtest custom for your own load), got one'],
    [['loadtest', 'peak', '--threshold', 'http_req_duraton=p(95)<500'], 'Expected `http_req_duraton` to name a known metric, got `http_req_duraton` (string). Did you mean `http_req_duration`?'],
  ])('refuses %j with a message naming what it knows (exit 2)', (args, message) => {
    const result = run(args);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`ratelab: ${message}`);
  });

  it('every command that takes --tier defaults to the same one', () => {
    for (const command of [['stack'], ['loadtest', 'peak'], ['sim'], ['tune']]) {
      const help = run([...command, '--help']).stdout.replace(/\s+/g, ' ');
      expect(help, command.join(' ')).toMatch(/--tier <n>[^-]*\(default: 3\)/);
    }
  });
});
