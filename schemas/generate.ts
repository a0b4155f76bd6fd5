/** `npm run schemas`: writes the published JSON Schemas from their zod sources (a test checks they match). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceLineJsonSchema } from '../src/gateway/trace-line.ts';

export const SCHEMAS: Record<string, () => Record<string, unknown>> = {
  'trace-line.schema.json': traceLineJsonSchema,
};

export const schemaText = (make: () => Record<string, unknown>): string => `${JSON.stringify(make(), null, 2)}\n`;

if (process.argv[1]?.endsWith('generate.ts')) {
  for (const [file, make] of Object.entries(SCHEMAS)) {
    writeFileSync(join(import.meta.dirname, file), schemaText(make));
    console.log(`wrote schemas/${file}`);
  }
}
