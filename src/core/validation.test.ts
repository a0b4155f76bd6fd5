import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, describeValue, intAtLeast, parseOrThrow } from './validation.ts';

describe('parseOrThrow', () => {
  const schema = z
    .object({
      pool: z.object({ slots: intAtLeast(1) }).strict(),
      mode: z.enum(['fixed', 'adaptive']),
      name: z.string(),
    })
    .strict();

  it('names the field, the expectation and the value (p-queue style)', () => {
    expect(() => parseOrThrow(schema, { pool: { slots: 0 }, mode: 'fixed', name: 'x' }, 'profile')).toThrow(
      'Invalid profile: Expected `pool.slots` to be an integer >= 1, got `0` (number)',
    );
  });

  it('lists every problem, including unknown fields and enum choices', () => {
    try {
      parseOrThrow(schema, { pool: { slots: 1.5 }, mode: 'auto', name: 3, extra: true }, 'profile', 'profile');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { issues } = error as ConfigError;
      expect(issues).toContain('Expected `profile.pool.slots` to be an integer >= 1, got `1.5` (number)');
      expect(issues).toContain('Expected `profile.mode` to be one of "fixed", "adaptive", got `auto` (string)');
      expect(issues).toContain('Expected `profile.name` to be a string, got `3` (number)');
      expect(issues).toContain('Unknown field `extra` in profile');
    }
  });

  it('returns the parsed value when valid', () => {
    expect(parseOrThrow(schema, { pool: { slots: 2 }, mode: 'fixed', name: 'a' }, 'profile')).toEqual({
      pool: { slots: 2 },
      mode: 'fixed',
      name: 'a',
    });
  });
});

describe('describeValue', () => {
  it('shows value and type, shortened', () => {
    expect(describeValue(0)).toBe('`0` (number)');
    expect(describeValue(null)).toBe('`null` (null)');
    expect(describeValue([1])).toBe('`[1]` (array)');
    expect(describeValue('x'.repeat(100))).toMatch(/^`x{57}\.\.\.` \(string\)$/);
  });
});
