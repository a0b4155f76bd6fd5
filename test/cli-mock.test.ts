import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const cli = ['bin/ratelab.js'];

describe('ratelab mock (CLI)', () => {
  it('binds 127.0.0.1, prints the URL and a profile summary, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [...cli, 'mock', '--port', '0', '--profile', 'article', '--time-scale', '0.01', '--seed', '7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out);
        if (match && out.includes('admin')) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).toContain('profile article');
    expect(out).toContain('P50 25s  P95 55s  P99 1m30s');
    expect(out).toContain('time scale 0.01');
    expect(out).toContain('tier 1  RPM 3000');
    const stats = (await (await fetch(`${url}/__admin/stats`)).json()) as { seed: number; timeScale: number; profile: string };
    expect(stats).toMatchObject({ seed: 7, timeScale: 0.01, profile: 'article' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it.each([
    [['--port', '70000'], 'Expected `--port` to be an integer from 0 to 65535, got `70000` (string)'],
    [['--time-scale', 'fast'], 'Expected `--time-scale` to be a number from 0.000001 to 1000, got `fast` (string)'],
    [['--profile', 'azure'], 'Expected `profile` to be one of openai, article, zero or a .yaml/.json file, got `azure` (string)'],
  ])('refuses %j with a message naming the flag (exit 2, no stack trace)', (args, message) => {
    const result = spawnSync(process.execPath, [...cli, 'mock', ...args], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`ratelab: ${message}`);
  });
});

describe('TIME_SCALE from the environment', () => {
  it('is checked like the flag', () => {
    const result = spawnSync(process.execPath, [...cli, 'mock', '--port', '0'], { encoding: 'utf8', env: { ...process.env, TIME_SCALE: 'fast' } });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('ratelab: Expected `--time-scale` to be a number from 0.000001 to 1000, got `fast` (string)');
  });
});

describe('ratelab gateway (CLI)', () => {
  it.each([
    [['--upstream', 'not a url'], 'Expected `--upstream` to be a base URL like http://127.0.0.1:4010/v1, got `not a url` (string)'],
    [['--upstream', 'https://api.example.invalid/v1'], 'Expected `UPSTREAM_API_KEY` in the environment for a non-local upstream, got nothing'],
    [['--config', 'no-such-limiter.yaml'], 'Cannot read gateway config `no-such-limiter.yaml`'],
  ])('refuses %j with a message naming the problem (exit 2)', (args, message) => {
    const env = { ...process.env };
    delete env.UPSTREAM_API_KEY;
    const result = spawnSync(process.execPath, [...cli, 'gateway', ...args], { encoding: 'utf8', env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`ratelab: ${message}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ratelab stack (CLI)', () => {
  it('starts the mock and the gateway, serves through both, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [...cli, 'stack', '--mock-port', '0', '--gateway-port', '0', '--time-scale', '0.01', '--tier', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const gatewayUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /ratelab gateway\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).toContain('ratelab mock');
    expect(out).toContain('tier 5 upstream account');
    const r = await fetch(`${gatewayUrl}/images/generations`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-ratelab-dev', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', quality: 'low' }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('250');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
