import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIXES, pickClass } from '../../loadtests/mixes.ts';
import { loadMix, parseMix } from './mix-file.ts';

const gen = { name: 'a', weight: 1, endpoint: 'generations' };

describe('loadMix', () => {
  it('gives a built-in mix by name', () => {
    expect(loadMix('default')).toBe(MIXES.default);
  });

  it('reads a YAML file, filling the defaults and naming the mix after the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ratelab-mix-')), 'shop.yaml');
    writeFileSync(file, 'classes:\n  - { name: thumb, weight: 3, endpoint: generations, quality: low, size: 1024x1024 }\n  - { name: retouch, weight: 1, endpoint: edits, inputImages: { count: 2, width: 800, height: 600 } }\n');
    const mix = loadMix(file);
    expect(mix.name).toBe('shop');
    expect(mix.classes).toEqual([
      { name: 'thumb', weight: 3, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 1, format: 'png' },
      { name: 'retouch', weight: 1, endpoint: 'edits', quality: 'auto', size: 'auto', n: 1, format: 'png', inputImages: { count: 2, width: 800, height: 600 } },
    ]);
  });

  it('refuses a word that is neither a mix nor a file, with the nearest name', () => {
    expect(() => loadMix('defualt')).toThrow('Expected `--mix` to be a built-in mix (single, default, edits, previews, priorities) or a mix file, got `defualt` (string). Did you mean `default`?');
  });
});

describe('parseMix', () => {
  const refused = (input: unknown): string => {
    try {
      parseMix(input, 'x');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('names the field, the expectation and the value', () => {
    expect(refused({ classes: [{ ...gen, weight: 0 }] })).toBe('Invalid request mix: Expected `classes.0.weight` to be a number > 0, got `0` (number)');
    expect(refused({ classes: [{ ...gen, endpoint: 'variations' }] })).toBe('Invalid request mix: Expected `classes.0.endpoint` to be one of "generations", "edits", got `variations` (string)');
    expect(refused({ classes: [{ ...gen, size: '1024*1024' }] })).toBe('Invalid request mix: Expected `classes.0.size` to be "auto" or a size WxH, like "1024x1536", got `1024*1024` (string)');
    expect(refused({ classes: [{ ...gen, name: 'a b' }] })).toBe('Invalid request mix: Expected `classes.0.name` to be a class name of letters, digits, _, . and -, got `a b` (string)');
    expect(refused({ classes: [] })).toBe('Invalid request mix: Expected `classes` to be an array of at least one request class, got `[]` (array)');
    expect(refused({ classes: [{ ...gen, quailty: 'low' }] })).toBe('Invalid request mix: Unknown field `quailty` in classes.0');
    expect(refused({ classes: [gen], sequence: [0, 0, 1, 0, 3] })).toBe('Invalid request mix: Expected `sequence.2` to be a class index from 0 to 0 (the mix has 1 classes), got `1` (number)');
    expect(refused({ classes: [{ ...gen, priority: 'urgent' }] })).toBe('Invalid request mix: Expected `classes.0.priority` to be one of "critical", "high", "normal", "low", got `urgent` (string)');
    expect(refused({ classes: [gen], sequence: [0, -1] })).toBe('Invalid request mix: Expected `sequence.1` to be a class index (an integer >= 0), got `-1` (number)');
  });

  it("keeps a class's priority, and leaves it unsaid when not given (normal)", () => {
    const mix = parseMix({ classes: [{ ...gen, priority: 'low' }, { ...gen, name: 'b' }] }, 'ranked');
    expect(mix.classes.map((c) => c.priority)).toEqual(['low', undefined]);
  });

  it('keeps a sequence: the classes of a replay, arrival by arrival', () => {
    const mix = parseMix({ classes: [gen, { ...gen, name: 'b' }], sequence: [1, 0, 1] }, 'replayed');
    expect(mix.sequence).toEqual([1, 0, 1]);
    expect([0, 1, 2, 3].map((i) => pickClass(mix, 5, 0, i).name)).toEqual(['b', 'a', 'b', 'b']);
  });

  it('refuses what the API would: an edit without references, references on a generation, partial images without a stream, a streamed n > 1, two classes of one name', () => {
    expect(refused({ classes: [{ ...gen, endpoint: 'edits' }] })).toBe("Invalid request mix: Expected `classes.0.inputImages` to be the edit's reference images, like { count: 1, width: 1024, height: 1024 }, got `undefined` (undefined)");
    expect(refused({ classes: [{ ...gen, inputImages: { count: 1, width: 8, height: 8 } }] })).toContain('Expected `classes.0.inputImages` to be absent for generations');
    expect(refused({ classes: [{ ...gen, partialImages: 2 }] })).toContain('Expected `classes.0.partialImages` to be given only with `stream: true`, got `2` (number)');
    expect(refused({ classes: [{ ...gen, stream: true, n: 2 }] })).toContain('Expected `classes.0.n` to be 1 for a streamed class');
    expect(refused({ classes: [{ ...gen, inputImages: undefined }, { ...gen }] })).toContain('Expected `classes.1.name` to be a name no other class has, got `a` (string)');
    expect(refused({ classes: [{ ...gen, endpoint: 'edits', inputImages: { count: 17, width: 8, height: 8 } }] })).toContain('Expected `classes.0.inputImages.count` to be an integer from 1 to 16, got `17` (number)');
  });
});
