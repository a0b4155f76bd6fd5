import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');

export interface Baseline {
  /** Short commit id of the revision. */
  sha: string;
  /** Its checkout (a detached git worktree sharing this one's node_modules). */
  dir: string;
  /** Imports a module of the revision by its path in the repository. */
  load<T>(path: string): Promise<T>;
  cleanup(): void;
}

/**
 * A git revision checked out beside this one, for benches that measure a change side by
 * side with what it replaced (BASELINE=<rev>), in one process or one run of processes.
 */
export function checkoutBaseline(rev: string): Baseline {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(mkdtempSync(join(tmpdir(), 'ratelab-baseline-')), sha);
  execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return {
    sha,
    dir,
    load: async <T>(path: string) => (await import(pathToFileURL(join(dir, path)).href)) as T,
    cleanup: () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' }),
  };
}
