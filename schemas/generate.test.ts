import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMAS, schemaText } from './generate.ts';

describe('published JSON Schemas', () => {
  it.each(Object.keys(SCHEMAS))('schemas/%s is what its zod source gives (npm run schemas rewrites it)', (file) => {
    expect(readFileSync(join(import.meta.dirname, file), 'utf8')).toBe(schemaText(SCHEMAS[file]!));
  });
});
