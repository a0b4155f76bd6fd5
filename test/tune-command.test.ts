import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MIXES } from '../loadtests/mixes.ts';
import { parseLimiterConfig } from '../src/limiter/config.ts';

const tune = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = execFile(process.execPath, ['bin/ratelab.js', 'tune', ...args], { encoding: 'utf8' }, (_e, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
  });

describe('ratelab tune (CLI)', () => {
  it('for a mix: the slowest class beside the run in the front, each class of the recommendation with its P95 and price, the cost, all in the limiter.yaml too', { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ratelab-tune-')), 'limiter.yaml');
    const r = await tune(['--profile', 'openai', '--tier', '3', '--scenario', 'steady', '--mix', 'default', '--seeds', '1', '--no-refine', '--p95', '1h', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| P95 | slowest class P95 | provider 429 |');
    expect(r.stdout).toContain('| class | share | P95 | P95 to first image | $ per image |');
    for (const c of MIXES.default!.classes) expect(r.stdout).toMatch(new RegExp(`\\| ${c.name} \\| ${c.weight} % \\| [0-9hms.]+ \\| [0-9hms.]+ \\| \\$0\\.\\d{4} \\|`));
    expect(r.stdout).toMatch(/cost \(catalogue prices\): \$0\.0514 per image, \$51\.45 per 1 000 images/);
    const file = readFileSync(out, 'utf8');
    expect(file).toContain('# | gen-preview | 20 % |');
    expect(file).toContain('# cost (catalogue prices): $0.0514 per image');
    // The comments aside, a limiter config the gateway loads.
    expect(() => parseLimiterConfig(parse(file))).not.toThrow();
  });

  it('for one shape: no class table, the cost all the same', { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ratelab-tune-')), 'limiter.yaml');
    const r = await tune(['--profile', 'openai', '--tier', '3', '--scenario', 'steady', '--seeds', '1', '--no-refine', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('slowest class');
    expect(r.stdout).not.toContain('per class');
    expect(r.stdout).toMatch(/cost \(catalogue prices\): \$0\.0\d{3} per image/);
  });
});
