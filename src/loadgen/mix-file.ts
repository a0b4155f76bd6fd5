import { existsSync } from 'node:fs';
import { z } from 'zod';
import { MIX_ENDPOINTS, MIX_FORMATS, MIX_PRIORITIES, MIX_QUALITIES, MIXES, type RequestMix } from '../../loadtests/mixes.ts';
import { readConfigFile } from '../core/config-file.ts';
import { suggest } from '../core/suggest.ts';
import { ConfigError, parseOrThrow } from '../core/validation.ts';

const oneOf = (values: readonly string[]) => `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
const intFromTo = (min: number, max: number) => {
  const error = `an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

/** Edits take up to 16 references (REFERENCE.md §1); 4096 px a side keeps a synthetic PNG under the 50 MB upload limit. */
const inputImages = z.object({ count: intFromTo(1, 16), width: intFromTo(1, 4096), height: intFromTo(1, 4096) }).strict();

const requestClass = z
  .object({
    // A class name is a metric tag value and a sub-metric selector: no braces, commas, colons or spaces.
    name: z.string({ error: 'a class name of letters, digits, _, . and -' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'a class name of letters, digits, _, . and -' }),
    weight: z.number({ error: 'a number > 0' }).positive({ error: 'a number > 0' }).finite({ error: 'a number > 0' }),
    endpoint: z.enum(MIX_ENDPOINTS, { error: oneOf(MIX_ENDPOINTS) }),
    model: z.string({ error: 'a model id, like "gpt-image-1.5"' }).min(1, { error: 'a model id, like "gpt-image-1.5"' }).optional(),
    quality: z.enum(MIX_QUALITIES, { error: oneOf(MIX_QUALITIES) }).default('auto'),
    size: z
      .string({ error: '"auto" or a size WxH, like "1024x1536"' })
      .regex(/^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$/, { error: '"auto" or a size WxH, like "1024x1536"' })
      .default('auto'),
    n: intFromTo(1, 10).default(1),
    format: z.enum(MIX_FORMATS, { error: oneOf(MIX_FORMATS) }).default('png'),
    stream: z.boolean({ error: 'true or false' }).optional(),
    partialImages: intFromTo(0, 3).optional(),
    inputImages: inputImages.optional(),
    priority: z.enum(MIX_PRIORITIES, { error: oneOf(MIX_PRIORITIES) }).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.endpoint === 'edits' && !c.inputImages) ctx.addIssue({ code: 'custom', path: ['inputImages'], message: 'the edit\'s reference images, like { count: 1, width: 1024, height: 1024 }', input: c.inputImages });
    if (c.endpoint === 'generations' && c.inputImages) ctx.addIssue({ code: 'custom', path: ['inputImages'], message: 'absent for generations (only edits take reference images)', input: c.inputImages });
    if (c.partialImages !== undefined && !c.stream) ctx.addIssue({ code: 'custom', path: ['partialImages'], message: 'given only with `stream: true`', input: c.partialImages });
    if (c.stream && c.n !== 1) ctx.addIssue({ code: 'custom', path: ['n'], message: '1 for a streamed class (OpenAI streams one image)', input: c.n });
  });

const mixSchema = z
  .object({
    name: z.string({ error: 'a string' }).optional(),
    description: z.string({ error: 'a string' }).optional(),
    classes: z.array(requestClass, { error: 'an array of request classes' }).min(1, { error: 'an array of at least one request class' }),
    sequence: z.array(z.number({ error: 'a class index (an integer >= 0)' }).int({ error: 'a class index (an integer >= 0)' }).min(0, { error: 'a class index (an integer >= 0)' })).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.classes.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['classes', i, 'name'], message: 'a name no other class has', input: c.name });
      seen.add(c.name);
    });
    // One issue for the first index past the classes: a long sequence must not bury the message.
    const past = m.sequence?.findIndex((i) => i >= m.classes.length) ?? -1;
    if (past >= 0) ctx.addIssue({ code: 'custom', path: ['sequence', past], message: `a class index from 0 to ${m.classes.length - 1} (the mix has ${m.classes.length} classes)`, input: m.sequence![past] });
  });

export type MixFileInput = z.input<typeof mixSchema>;

/** A mix from data (a parsed file, or an object in code), validated, with every field filled. */
export function parseMix(input: unknown, name: string, what = 'request mix'): RequestMix {
  const m = parseOrThrow(mixSchema, input, what);
  return { name: m.name ?? name, description: m.description ?? `request mix ${name}`, classes: m.classes, ...(m.sequence?.length ? { sequence: m.sequence } : {}) };
}

/**
 * `--mix <name|file>`: a built-in mix by name (loadtests/mixes.ts), or a YAML/JSON file of
 * `{ name?, description?, classes: [...] }`. A word that is neither a built-in nor a file
 * is refused with the names, and the nearest one when it is close.
 */
export function loadMix(nameOrFile: string): RequestMix {
  const builtIn = MIXES[nameOrFile];
  if (builtIn) return builtIn;
  if (!existsSync(nameOrFile)) {
    const names = Object.keys(MIXES);
    const near = suggest(nameOrFile, names);
    throw new ConfigError(`Expected \`--mix\` to be a built-in mix (${names.join(', ')}) or a mix file, got \`${nameOrFile}\` (string).${near ? ` Did you mean \`${near}\`?` : ''}`);
  }
  return parseMix(readConfigFile(nameOrFile, 'request mix'), nameOrFile.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''), `request mix \`${nameOrFile}\``);
}

/** The same check for code that builds a mix: every built-in passes it (tested). */
export const checkMix = (mix: RequestMix): RequestMix => parseMix(mix, mix.name);
