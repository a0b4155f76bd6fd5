#!/usr/bin/env node
// Starts the CLI from its prebuilt bundle, rebuilt first when a source file changed since
// (esbuild takes ~0.1 s), so a call never runs stale code and never transpiles at start-up.
// Without a bundle and without esbuild it falls back to running the TypeScript through tsx.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, bundle, isFresh, root } from './prebuilt.js';

// The bundle's source map is not loaded by default (it costs ~0.1 s a call): NODE_OPTIONS=--enable-source-maps for stack traces in src/.
if (isFresh() || (await build())) {
  await import(pathToFileURL(bundle).href);
} else {
  // tsx is a dev dependency: a production install runs the bundle it was packed with.
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'pipe'] });
  const stderr = result.stderr?.toString() ?? '';
  if (/Cannot find (package|module) 'tsx'/.test(stderr)) {
    console.error('ratelab: no prebuilt CLI (dist/cli.mjs) and no tsx to run the sources: run `npm ci` (it builds dist/cli.mjs), or `npm run build`');
    process.exit(1);
  }
  process.stderr.write(stderr);
  process.exit(result.status ?? 1);
}
