import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import OpenAI from 'openai';
import { startMockServer } from '../mock-server/http-server.ts';
import { DEV_CLIENT_KEY } from '../src/gateway/clients.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import { startGateway } from '../src/gateway/gateway.ts';

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

  it("deploys: the planned gateway.yaml, pointed at a provider, starts a gateway that serves an SDK's request through it", { timeout: 60_000 }, async () => {
    const mock = await startMockServer({ profile: 'openai', timeScale: 0.01, seed: 3 });
    const out = join(mkdtempSync(join(tmpdir(), 'ratelab-plan-deploy-')), 'gateway.yaml');
    try {
      const r = await ratelab(['plan', '--demand', '30', '--duration', '10m', '--max-accounts', '1', '--base-url', mock.baseURL, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const config = parseGatewayConfig(parse(readFileSync(out, 'utf8')));
      expect(config.upstreams!.map((u) => [u.baseURL, u.apiKeyEnv])).toEqual([[mock.baseURL, 'UPSTREAM_API_KEY']]);
      // The key a tier-3 account would have, where the file says to find it.
      const gateway = await startGateway({ config, env: { UPSTREAM_API_KEY: 'sk-tier3-planned' }, timeScale: 0.01, logLevel: 'silent' });
      try {
        const image = await new OpenAI({ apiKey: DEV_CLIENT_KEY, baseURL: gateway.baseURL, maxRetries: 0 }).images.generate({ model: 'gpt-image-1.5', prompt: 'planned', quality: 'low' });
        expect(image.data?.[0]?.b64_json?.length).toBeGreaterThan(100);
        expect(mock.model.stats.total).toBe(1);
      } finally {
        await gateway.close();
      }
    } finally {
      await mock.close();
    }
  });

  it('names what is missing', async () => {
    const r = await ratelab(['plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Expected `--demand` (images per minute) or a `--trace` to take it from, got neither');
  });
});
