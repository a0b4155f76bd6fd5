#!/usr/bin/env node
// `npm run build` (and npm's `prepare`, so `npm ci` leaves a built CLI): dist/cli.mjs.
import { build, bundle } from './prebuilt.js';

// `--optional` (npm's prepare): an install without dev dependencies keeps the bundle it came with.
if (!(await build())) {
  console.error('ratelab build: esbuild is not installed (npm ci installs it)');
  process.exit(process.argv.includes('--optional') ? 0 : 1);
}
console.log(`built ${bundle}`);
