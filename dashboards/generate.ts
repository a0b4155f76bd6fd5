/** `npm run dashboards`: writes dashboards/json/<uid>.json from the TypeScript sources. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS, dashboardJson } from './index.ts';

for (const [name, build] of Object.entries(DASHBOARDS)) {
  const file = join(import.meta.dirname, 'json', `${name}.json`);
  writeFileSync(file, dashboardJson(build));
  console.log(`wrote ${file}`);
}
