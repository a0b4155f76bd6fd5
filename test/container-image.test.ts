import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

/** The Dockerfile's stages, each with its instructions (continuation lines joined). */
function stages(dockerfile: string): { from: string; lines: string[] }[] {
  const out: { from: string; lines: string[] }[] = [];
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  for (const line of joined.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    if (/^FROM\s/i.test(line)) out.push({ from: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe('the container image definition (Dockerfile)', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const all = stages(text);
  const final = all.at(-1)!;

  it('is multi-stage on the Node major of package.json, and the final stage is built from the build stage only', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    for (const s of all) expect(s.from).toMatch(new RegExp(`^FROM node:${/\d+/.exec(engines)![0]}-`));
    // Nothing of the build context reaches the runtime stage except through the build stage.
    for (const l of final.lines.filter((l) => /^COPY\s/i.test(l))) expect(l).toMatch(/^COPY --from=build\s/);
  });

  it('installs production dependencies only, from the lock file, without install scripts, and runs as a non-root user', () => {
    const runs = final.lines.filter((l) => /^RUN\s/i.test(l)).join(' ');
    expect(runs).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(final.lines.some((l) => /^COPY --from=build \S*package-lock\.json/.test(l))).toBe(true);
    const user = final.lines.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    // USER comes before the entry point, so the process never starts as root.
    expect(final.lines.findIndex((l) => /^USER\s/.test(l))).toBeLessThan(final.lines.findIndex((l) => /^ENTRYPOINT\s/.test(l)));
  });

  it('starts the prebuilt bundle under plain node: no tsx, no build at start', () => {
    const entry = final.lines.find((l) => /^ENTRYPOINT\s/.test(l))!;
    expect(JSON.parse(entry.replace(/^ENTRYPOINT\s+/, ''))).toEqual(['node', '/app/dist/cli.mjs']);
    expect(text).not.toMatch(/\btsx\b/);
    expect(final.lines).toContain('EXPOSE 4020 4010');
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.git', 'node_modules', 'dist', 'results']) expect(ignore).toContain(p);
  });
});

/**
 * What the image's runtime stage does, on this machine: the `npm pack`ed tarball unpacked,
 * production dependencies installed from the lock file, then the mock and the gateway
 * started from dist/cli.mjs under plain node (tsx is a dev dependency, so not even
 * installed), serving the official SDK.
 */
describe('the packed gateway and mock, started as the image starts them', () => {
  let app: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'ratelab-image-'));
    // Without its scripts: `npm ci` built dist/cli.mjs already, and prepack's tsc would race the limiter package test writing dist/src.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--silent'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    app = join(work, 'app');
    mkdirSync(app);
    await run('tar', ['-xzf', join(work, tarball), '--strip-components=1', '-C', app]);
    cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    // From the npm cache `npm ci` filled: the same versions the Dockerfile installs.
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 64 * 1024 * 1024 });
  }, 240_000);
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  /** `node dist/cli.mjs <args>` in the unpacked package, resolved with the URL it prints. */
  const start = (args: string[], env: Record<string, string>, pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [join(app, 'dist', 'cli.mjs'), ...args], { cwd: app, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env } });
      children.push(child);
      let output = '';
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = pattern.exec(output);
        if (m) resolve(m[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });

  it('ships no tests and no dev tooling, and its mock and gateway serve an image to the SDK', { timeout: 60_000 }, async () => {
    expect(readdirSync(join(app, 'src', 'gateway')).filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    for (const dev of ['vitest', 'esbuild', 'tsx', 'playwright-core', 'autocannon']) expect(readdirSync(join(app, 'node_modules'))).not.toContain(dev);
    const mock = await start(['mock', '--port', '0', '--time-scale', '0.01'], {}, /ratelab mock\s+(http:\/\/\S+\/v1)/);
    const gateway = await start(['gateway', '--port', '0', '--upstream', mock, '--time-scale', '0.01'], { UPSTREAM_API_KEY: 'sk-tier3-image-test' }, /ratelab gateway\s+(http:\/\/\S+\/v1)/);
    const client = new OpenAI({ baseURL: gateway, apiKey: 'sk-ratelab-dev' });
    const image = await client.images.generate({ model: 'gpt-image-1.5', prompt: 'a lighthouse', quality: 'low', size: '1024x1024' });
    expect(image.data?.[0]?.b64_json?.length).toBeGreaterThan(100);
    const health = await fetch(gateway.replace(/\/v1$/, '/healthz'));
    expect(health.status).toBe(200);
  });
});
