/** `npm run deploy`: writes deploy/kubernetes/ from deploy/kubernetes.ts (and removes files it no longer makes). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { kubernetesFiles } from './kubernetes.ts';

export const KUBERNETES_DIR = join(import.meta.dirname, 'kubernetes');

const files = kubernetesFiles();
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
mkdirSync(KUBERNETES_DIR, { recursive: true });
for (const old of walk(KUBERNETES_DIR)) if (!(relative(KUBERNETES_DIR, old) in files)) rmSync(old);
for (const [path, text] of Object.entries(files)) {
  const file = join(KUBERNETES_DIR, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
console.log(`wrote ${Object.keys(files).length} files in ${KUBERNETES_DIR}`);
