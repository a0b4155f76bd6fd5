import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promDuration, ratelabRules, rulesYaml } from './rules.ts';

const here = import.meta.dirname;
const havePromtool = spawnSync('promtool', ['--version']).status === 0;
if (process.env.CI === 'true' && !havePromtool) throw new Error('CI=true but no promtool: .ci/run must install Debian prometheus');

describe('alert rules', () => {
  it('the shipped file is what alerts/rules.ts generates (run `npm run alerts`)', () => {
    expect(readFileSync(join(here, 'ratelab.rules.yml'), 'utf8')).toBe(rulesYaml(1));
  });

  it('every alert has a severity, summary, description and a runbook entry in alerts/README.md', () => {
    const readme = readFileSync(join(here, 'README.md'), 'utf8');
    const alerts = ratelabRules(1).groups.flatMap((g) => g.rules).filter((r) => 'alert' in r);
    expect(alerts.length).toBeGreaterThanOrEqual(12);
    for (const a of alerts) {
      if (!('alert' in a)) continue;
      expect(['warning', 'critical']).toContain(a.labels.severity);
      expect(a.annotations.summary.length).toBeGreaterThan(10);
      expect(a.annotations.description.length).toBeGreaterThan(20);
      expect(readme).toContain(`### ${a.alert}`);
    }
  });

  it('time-scales windows, `for` and intervals, and latency thresholds, from the same source', () => {
    expect(promDuration(300_000)).toBe('5m');
    expect(promDuration(15_000)).toBe('15s');
    expect(promDuration(1_500)).toBe('1500ms');
    expect(promDuration(3 * 86_400_000)).toBe('3d');
    const scaled = rulesYaml(0.05);
    expect(scaled).toContain('rate(ratelab_gateway_responses_total[15s])');
    expect(scaled).toContain('for: 15s');
    expect(scaled).toContain('interval: 1500ms');
    expect(scaled).toContain('> 4.5');
    expect(scaled.replace(/\[[^\]]+\]|for: \S+|interval: \S+|> [\d.]+/g, '')).toBe(rulesYaml(1).replace(/^#.*\n/, `# ratelab rules at time scale 0.05 (generated for the live check).\n`).replace(/\[[^\]]+\]|for: \S+|interval: \S+|> [\d.]+/g, ''));
  });

  it.runIf(havePromtool)('pass `promtool check rules` and every `promtool test rules` case (each alert firing and not firing)', () => {
    const check = spawnSync('promtool', ['check', 'rules', join(here, 'ratelab.rules.yml')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', join(here, 'tests', 'ratelab.test.yml')], { encoding: 'utf8' });
    const output = test.stdout + test.stderr;
    if (test.status !== 0 || !output.includes('SUCCESS')) throw new Error(`promtool test rules failed:\n${output}`);
    // Every alert is exercised by the promtool tests.
    const cases = readFileSync(join(here, 'tests', 'ratelab.test.yml'), 'utf8');
    for (const g of ratelabRules(1).groups) for (const r of g.rules) if ('alert' in r) expect(cases).toContain(`alertname: ${r.alert}`);
  });
});
