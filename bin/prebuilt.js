// The CLI as one prebuilt ES module (dist/cli.mjs), bundled by esbuild from src/cli.ts with
// every npm package left external. Plain JavaScript because it runs before any TypeScript
// loader: it is how `ratelab` starts without transpiling ~250 files on every call.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bundle = join(root, 'dist/cli.mjs');
/** What the CLI imports only on some paths (Redis, the openai SDK) in chunks of their own, so other commands never load them. */
const chunks = join(root, 'dist/cli-chunks');
/** A chunk no build needs is removed an hour after it was written: a process started from the build before may still load it. */
const CHUNK_GRACE_MS = 3_600_000;
/** The files the bundle was built from (esbuild's metafile inputs), with the build's time. */
const inputsFile = join(root, 'dist/cli.inputs.json');

/** Whether the bundle exists and no file it was built from changed since. */
export function isFresh() {
  if (!existsSync(bundle) || !existsSync(inputsFile)) return false;
  try {
    const { builtAt, inputs } = JSON.parse(readFileSync(inputsFile, 'utf8'));
    // A file added later is reached only through an import in a file that changed: checking the inputs is enough.
    return inputs.every((file) => statSync(join(root, file)).mtimeMs <= builtAt);
  } catch {
    return false;
  }
}

/**
 * Builds the bundle; false when esbuild is not installed (a production install keeps the
 * bundle it was packed with). Written beside the target and renamed, so processes that
 * build at once never read half a file.
 */
export async function build() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return false;
  }
  const builtAt = Date.now();
  const result = await esbuild.build({
    entryPoints: [join(root, 'src/cli.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    splitting: true,
    outdir: dirname(bundle),
    entryNames: 'cli',
    chunkNames: 'cli-chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  mkdirSync(chunks, { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  for (const file of result.outputFiles) {
    writeFileSync(file.path + suffix, file.contents);
    renameSync(file.path + suffix, file.path);
  }
  writeFileSync(inputsFile + suffix, JSON.stringify({ builtAt, inputs: Object.keys(result.metafile.inputs) }));
  renameSync(inputsFile + suffix, inputsFile);
  const current = new Set(result.outputFiles.map((f) => f.path));
  for (const name of readdirSync(chunks)) {
    const file = join(chunks, name);
    if (!current.has(file) && statSync(file).mtimeMs < builtAt - CHUNK_GRACE_MS) rmSync(file, { force: true });
  }
  return true;
}
