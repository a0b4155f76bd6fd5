import { execFile } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const bundle = join(root, 'dist/cli.mjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** The packages a module loads as soon as it is imported: its static imports, followed through the bundle's own chunks. */
function packagesLoadedAtStart(file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^import\s[^'"]*?["']([^"']+)["'];?$/gm)) {
    if (spec!.startsWith('.')) for (const p of packagesLoadedAtStart(join(dirname(file), spec!), seen)) packages.add(p);
    else if (!spec!.startsWith('node:')) packages.add(spec!.split('/').slice(0, spec!.startsWith('@') ? 2 : 1).join('/'));
  }
  return packages;
}

describe('the prebuilt CLI (bin/ratelab.js → dist/cli.mjs)', () => {
  it('runs from the bundle, and rebuilds it first when a file it was built from changed', async () => {
    expect((await run(process.execPath, ['bin/ratelab.js', '--version'], { cwd: root })).stdout).toContain(`ratelab ${version}`);
    const inputs = () => JSON.parse(readFileSync(join(root, 'dist/cli.inputs.json'), 'utf8')) as { builtAt: number; inputs: string[] };
    expect(inputs().inputs).toContain('src/limiter/dispatcher.ts');
    // A source file edited now: the next call must not run the bundle built before.
    const touched = Date.now();
    const source = join(root, 'src/cli/options.ts');
    utimesSync(source, statSync(source).atime, new Date(touched));
    const r = await run(process.execPath, ['bin/ratelab.js', 'sim', '--scenario', 'nope'], { cwd: root }).catch((e: { stderr: string; code: number }) => e);
    expect(inputs().builtAt).toBeGreaterThanOrEqual(touched);
    expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(touched - 1000);
    // The CLI's own error voice, from the bundle: a clear message and exit 2, no stack trace.
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toMatch(/^ratelab: .*scenario.*nope/m);
    expect((r as { stderr: string }).stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('loads Redis, BullMQ and the openai SDK only on the paths that use them', () => {
    const atStart = packagesLoadedAtStart(bundle);
    expect(atStart).toContain('commander');
    expect(atStart).toContain('prom-client');
    for (const lazy of ['ioredis', 'bullmq', 'openai', 'sharp']) expect(atStart).not.toContain(lazy);
  });
});
