import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/validation.ts';
import { BUILTIN_PROFILES, catalogueOf, loadProfile } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ratelab-profile-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadProfile', () => {
  it.each(Object.keys(BUILTIN_PROFILES))('the built-in %s profile is valid', (name) => {
    expect(loadProfile(name).name).toBe(name);
  });

  it("takes each model's documented tier table from the catalogue", () => {
    const profile = loadProfile('openai');
    expect(profile.limits.tiers).toBeUndefined();
    const tiers = catalogueOf(profile).get('gpt-image-2.5-flare')!.tiers;
    expect(tiers.source).toBe('documented');
    expect(tiers.table).toEqual({
      '0': null,
      '1': { ipm: 5, tpm: 100_000 },
      '2': { ipm: 20, tpm: 250_000 },
      '3': { ipm: 50, tpm: 800_000 },
      '4': { ipm: 150, tpm: 3_000_000 },
      '5': { ipm: 250, tpm: 8_000_000 },
    });
  });

  it('reads the shipped example, which extends openai', () => {
    const profile = loadProfile('mock-server/profiles/examples/busy-afternoon.yaml');
    expect(profile.name).toBe('busy-afternoon');
    expect(catalogueOf(profile).factsFor(profile.defaultModel).tiers.table['1']).toEqual({ ipm: 5, tpm: 100_000 });
    expect(profile.pool.background).toEqual({ kind: 'constant', utilization: 0.85 });
    expect(profile.faults[0]).toMatchObject({ kind: 'outage', at: 600_000, duration: 120_000, status: 503 });
  });

  it('reads JSON and lets the served models and the default change', () => {
    const path = file('p.json', JSON.stringify({ ...BUILTIN_PROFILES.openai, name: 'next', serve: ['gpt-image-2'], defaultModel: 'gpt-image-2' }));
    expect(loadProfile(path)).toMatchObject({ serve: ['gpt-image-2'], defaultModel: 'gpt-image-2' });
  });

  it('adds a model as a data change: an override `like` a catalogue model, with its own facts', () => {
    const profile = loadProfile('openai', { models: { 'gpt-image-3': { like: 'gpt-image-2.5-flare', qualities: ['low', 'high'], tiers: { table: { '1': { ipm: 7 } }, source: 'estimated' } } } });
    const next = catalogueOf(profile).get('gpt-image-3')!;
    expect(next).toMatchObject({ family: 'gpt-image-3', qualities: ['low', 'high'], status: { state: 'active' }, markup: true });
    expect(next.tiers.table['1']).toEqual({ ipm: 7 });
  });

  it.each([
    ['slots: 0', { pool: { slots: 0 } }, 'Expected `pool.slots` to be an integer >= 1, got `0` (number)'],
    ['a bad duration', { latency: { p50: '25 seconds' } }, 'Expected `latency.p50` to be a Go duration like "90s" or a number of milliseconds >= 0, got `25 seconds` (string)'],
    ['quantiles out of order', { latency: { p50: '30s', p95: '20s' } }, 'Expected `latency.p99` to be quantiles in order: p50 <= p95 <= p99'],
    ['a bad contention status', { pool: { contention: { status: 500 } } }, 'Expected `pool.contention.status` to be one of 429, 503, got `500` (number)'],
    ['an unknown field', { pool: { gpus: 4 } }, 'Unknown field `gpus` in pool'],
  ])('rejects %s naming field, expectation and value', (_name, overrides, message) => {
    expect(() => loadProfile('openai', overrides as never)).toThrow(ConfigError);
    expect(() => loadProfile('openai', overrides as never)).toThrow(message);
  });

  it('explains unreadable, unparsable and unknown inputs', () => {
    expect(() => loadProfile('nope')).toThrow('Expected `profile` to be one of openai, article, zero or a .yaml/.json file, got `nope` (string)');
    expect(() => loadProfile(join(dir, 'missing.yaml'))).toThrow(/Cannot read profile file/);
    expect(() => loadProfile(file('bad.yaml', 'name: [unclosed'))).toThrow(/Cannot parse profile file/);
    expect(() => loadProfile(file('ext.yaml', 'extends: azure\nname: x'))).toThrow('Expected `extends` in');
  });
});
