import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseGatewayConfig } from '../src/gateway/config.ts';

const ratelab = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = execFile(process.execPath, ['bin/ratelab.js', ...args], { encoding: 'utf8' }, (_e, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
  });

describe('ratelab plan (CLI)', () => {
  it('shows the limiter each option was served with, the limiters tried for the recommendation, and writes the chosen one into gateway.yaml', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-plan-'));
    const limiter = join(dir, 'limiter.yaml');
    writeFileSync(limiter, 'concurrency: { mode: fixed, limit: 4 }\n');
    const out = join(dir, 'gateway.yaml');
    const args = ['plan', '--demand', '30', '--duration', '10m', '--limiter', limiter, '--max-accounts', '2', '--out', out];
    const r = await ratelab(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| option | limiter | goodput');
    expect(r.stdout).toMatch(/\| tier 1 × 1 \| the given limiter \|/);
    expect(r.stdout).toContain('recommended: 1 account of tier 3');
    expect(r.stdout).toMatch(/\| the given limiter \| [\d.]+ \| [^|]+ \| [\d.]+ % \| no \|/);
    const chosen = /limiter to use: (.+)/.exec(r.stdout)![1]!;
    expect(chosen).toMatch(/safety 0\.9/);
    const written = readFileSync(out, 'utf8');
    expect(written).toContain(`limiter ${chosen}`);
    const config = parseGatewayConfig(parse(written));
    expect(config.upstreams).toHaveLength(1);
    expect(config.limiter.budgets.safety).toBe(0.9);
    // Without the search the given limiter stays, and it takes two accounts (of tier 2) where one of tier 3 serves the demand.
    const kept = await ratelab([...args, '--no-search-limiter']);
    expect(kept.stdout).toContain('recommended: 2 accounts of tier 2');
    expect(kept.stdout).not.toContain('limiter settings for');
    expect(parseGatewayConfig(parse(readFileSync(out, 'utf8'))).limiter.concurrency).toMatchObject({ mode: 'fixed', limit: 4 });
  });

  it('names what is missing', async () => {
    const r = await ratelab(['plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Expected `--demand` (images per minute) or a `--trace` to take it from, got neither');
  });
});
