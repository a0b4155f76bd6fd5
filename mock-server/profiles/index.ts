import { extname } from 'node:path';
import { readConfigFile } from '../../src/core/config-file.ts';
import { ConfigError, parseOrThrow } from '../../src/core/validation.ts';
import { articleProfile } from './article.ts';
import { openaiProfile } from './openai.ts';
import { Catalogue } from '../../src/openai/catalogue.ts';
import { profileSchema, type Profile, type ProfileInput } from './schema.ts';
import { zeroProfile } from './zero.ts';

export const BUILTIN_PROFILES: Readonly<Record<string, ProfileInput>> = {
  openai: openaiProfile,
  article: articleProfile,
  zero: zeroProfile,
};

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Deep merge for profile overrides: objects merge, arrays and scalars replace, and an
 * object of another `kind` (background: constant vs diurnal) replaces rather than mixes.
 */
export function mergeProfile(base: Plain, override: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    const sameKind = isPlain(current) && isPlain(value) && (value.kind === undefined || value.kind === current.kind);
    out[key] = sameKind ? mergeProfile(current as Plain, value as Plain) : value;
  }
  return out;
}

export type ProfileOverrides = { [K in keyof ProfileInput]?: ProfileInput[K] extends object ? Partial<ProfileInput[K]> | ProfileInput[K] : ProfileInput[K] };

/**
 * Resolves a profile from a built-in name or a YAML/JSON file. A file may say
 * `extends: openai` and give only what differs.
 */
export function loadProfile(nameOrPath: string | ProfileInput, overrides: ProfileOverrides = {}): Profile {
  const plain = typeof nameOrPath === 'string' && nameOrPath in BUILTIN_PROFILES && Object.keys(overrides).length === 0;
  if (plain) return (builtins[nameOrPath] ??= deepFreeze(resolveProfile(nameOrPath, overrides)));
  return resolveProfile(nameOrPath, overrides);
}

/**
 * Built-in profiles as parsed, once per process and frozen (a profile is read, never
 * written): parsing one is most of a short simulation's set-up.
 */
const builtins: Record<string, Profile> = {};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function resolveProfile(nameOrPath: string | ProfileInput, overrides: ProfileOverrides): Profile {
  let input: Plain;
  if (typeof nameOrPath !== 'string') {
    input = nameOrPath as Plain;
  } else if (nameOrPath in BUILTIN_PROFILES) {
    input = BUILTIN_PROFILES[nameOrPath] as Plain;
  } else if (['.yaml', '.yml', '.json'].includes(extname(nameOrPath))) {
    input = readProfileFile(nameOrPath);
  } else {
    throw new ConfigError(
      `Expected \`profile\` to be one of ${Object.keys(BUILTIN_PROFILES).join(', ')} or a .yaml/.json file, got \`${nameOrPath}\` (string)`,
    );
  }
  const merged = mergeProfile(input, overrides as Plain);
  return parseOrThrow(profileSchema, merged, `profile "${String(merged.name ?? nameOrPath)}"`);
}

function readProfileFile(path: string): Plain {
  const data = readConfigFile(path, 'profile file');
  if (!isPlain(data)) throw new ConfigError(`Expected profile file \`${path}\` to hold an object, got ${typeof data}`);
  const { extends: parent, ...rest } = data;
  if (parent === undefined) return rest;
  if (typeof parent !== 'string' || !(parent in BUILTIN_PROFILES)) {
    throw new ConfigError(`Expected \`extends\` in \`${path}\` to be one of ${Object.keys(BUILTIN_PROFILES).join(', ')}, got \`${String(parent)}\``);
  }
  return mergeProfile(BUILTIN_PROFILES[parent] as Plain, rest);
}

export type { Profile, ProfileInput } from './schema.ts';

/** A catalogue is immutable and profiles are read-only, so each profile's is built once (the tuner simulates one profile hundreds of times). */
const catalogues = new WeakMap<Profile, Catalogue>();

/** The model catalogue as this profile sees it: the built-in data with the profile's `models` overrides. */
export function catalogueOf(profile: Profile): Catalogue {
  let catalogue = catalogues.get(profile);
  if (!catalogue) catalogues.set(profile, (catalogue = new Catalogue(undefined, profile.models, `profile "${profile.name}"`, profile.defaultModel)));
  return catalogue;
}
