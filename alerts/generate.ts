/** `npm run alerts`: writes the shipped rules file from alerts/rules.ts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rulesYaml } from './rules.ts';

export const RULES_FILE = join(import.meta.dirname, 'ratelab.rules.yml');
writeFileSync(RULES_FILE, rulesYaml(1));
console.log(`wrote ${RULES_FILE}`);
