import { z } from 'zod';
import { parseGoDuration } from './duration.ts';

/**
 * Error messages in p-queue's style: "Expected `pool.slots` to be an integer >= 1, got `0`
 * (number)". Our schemas state expectations as lowercase phrases ("an integer >= 1");
 * zod's own messages are turned into such phrases here.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [message],
  ) {
    super(message);
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return '`undefined` (undefined)';
  if (value === null) return '`null` (null)';
  const type = Array.isArray(value) ? 'array' : typeof value;
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return `\`${text}\` (${type})`;
}

export function expectationMessage(field: string, expectation: string, value: unknown): string {
  return `Expected \`${field}\` to be ${expectation}, got ${describeValue(value)}`;
}

const ARTICLE: Record<string, string> = {
  int: 'an integer',
  integer: 'an integer',
  object: 'an object',
  array: 'an array',
  undefined: 'undefined',
};
const withArticle = (type: string): string => ARTICLE[type] ?? `a ${type}`;

type Issue = z.core.$ZodIssue & { input?: unknown };

function expectationOf(issue: Issue): string {
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return withArticle(issue.expected);
    case 'too_small':
      return `${withArticle(issue.origin === 'number' ? 'number' : issue.origin)} ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${withArticle(issue.origin === 'number' ? 'number' : issue.origin)} ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

const fieldPath = (root: string, path: readonly PropertyKey[]): string =>
  [root, ...path.map(String)].filter((part) => part !== '').join('.');

export function formatIssue(issue: Issue, root = ''): string {
  if (issue.code === 'unrecognized_keys') {
    const where = fieldPath(root, issue.path) || 'the top level';
    return `Unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')} in ${where}`;
  }
  return expectationMessage(fieldPath(root, issue.path) || root || 'value', expectationOf(issue), issue.input);
}

/** Parses with `schema` or throws a ConfigError whose message lists every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, root = ''): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => formatIssue(issue as Issue, root));
  throw new ConfigError(`Invalid ${what}: ${issues.join('; ')}`, issues);
}

/** Schema helpers whose failures read as expectations. */
export const intAtLeast = (min: number): z.ZodNumber =>
  z.number({ error: `an integer >= ${min}` }).int({ error: `an integer >= ${min}` }).min(min, { error: `an integer >= ${min}` });

export const numberBetween = (min: number, max: number): z.ZodNumber =>
  z.number({ error: `a number from ${min} to ${max}` }).min(min, { error: `a number from ${min} to ${max}` }).max(max, { error: `a number from ${min} to ${max}` });

/** Durations in config and profile files: a Go duration string ("90s", "1m30s") or milliseconds. */
export const duration = z.union([z.number(), z.string()], { error: 'a Go duration like "90s" or a number of milliseconds' }).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    try {
      const ms = parseGoDuration(value);
      if (ms >= 0) return ms;
    } catch {
      // reported below
    }
  }
  ctx.addIssue({ code: 'custom', message: 'a Go duration like "90s" or a number of milliseconds >= 0', input: value });
  return z.NEVER;
});

