import { ConfigError, parseOrThrow } from '../core/validation.ts';
import { modelEntrySchema, modelOverrideSchema, type ModelEntry, type ModelEntryInput, type ModelOverride } from './catalogue-schema.ts';
import { DEFAULT_MODEL, MODELS } from './models.ts';

/** One model as a request meets it: its id, the family whose rate-limit bucket it shares, its facts. */
export interface CatalogueModel extends ModelEntry {
  id: string;
  /** The model itself, or the family a dated snapshot belongs to. */
  family: string;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Objects merge, arrays and scalars replace; an object of another `kind`/`state` replaces
 * whole, and so does a `table` (a tier or price table given is the whole table).
 */
function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    const sameKind = key !== 'table' && isPlain(current) && isPlain(value) && (value.kind ?? current.kind) === current.kind && (value.state ?? current.state) === current.state;
    out[key] = sameKind ? merge(current, value) : value;
  }
  return out;
}

/**
 * The model catalogue: the built-in data (models.ts) with a profile's or a config's
 * overrides applied and validated. Lookups are by exact id; a snapshot carries its
 * family's name so limits can be shared per family.
 */
export class Catalogue {
  private readonly byId: ReadonlyMap<string, CatalogueModel>;
  /** The entries as merged, before validation: what `with` starts from. */
  private readonly merged: Readonly<Record<string, Plain>>;

  constructor(
    entries: Readonly<Record<string, ModelEntryInput>> = MODELS,
    overrides: Readonly<Record<string, ModelOverride>> = {},
    /** Where the overrides came from, for error messages (`profile "openai"`, `gateway config`). */
    where = 'model catalogue',
    readonly defaultModel: string = DEFAULT_MODEL,
  ) {
    const merged: Record<string, Plain> = { ...(entries as unknown as Record<string, Plain>) };
    for (const [id, raw] of Object.entries(overrides)) {
      const override = parseOrThrow(modelOverrideSchema, raw, where, `models.${id}`);
      const { like, ...facts } = override;
      const base = merged[id] ?? (like !== undefined ? merged[like] : undefined);
      if (!base) {
        const known = Object.keys(merged).join(', ');
        throw new ConfigError(`Expected \`models.${id}.like\` in ${where} to name a catalogue model for a model the catalogue does not have (one of ${known}), got ${like === undefined ? 'nothing' : `\`${like}\``}`);
      }
      // A new model made `like` a snapshot is not that snapshot: it is its own family.
      merged[id] = merge(merged[id] ? base : { ...base, snapshotOf: undefined }, facts as Plain);
    }
    const byId = new Map<string, CatalogueModel>();
    for (const [id, entry] of Object.entries(merged)) {
      const facts = parseOrThrow(modelEntrySchema, entry, where, `models.${id}`);
      byId.set(id, { ...facts, id, family: facts.snapshotOf ?? id });
    }
    this.byId = byId;
    this.merged = merged;
    if (!byId.has(defaultModel)) throw new ConfigError(`Expected \`defaultModel\` in ${where} to be a catalogue model, got \`${defaultModel}\``);
  }

  /** This catalogue with more overrides applied (a gateway's config on top of the built-in data). */
  with(overrides: Readonly<Record<string, ModelOverride>>, where: string): Catalogue {
    if (Object.keys(overrides).length === 0) return this;
    return new Catalogue(this.merged as unknown as Record<string, ModelEntryInput>, overrides, where, this.defaultModel);
  }

  get(id: string): CatalogueModel | undefined {
    return this.byId.get(id);
  }

  /** Every model, retired ones included (they are answered as OpenAI answers them). */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  active(): string[] {
    return this.ids().filter((id) => this.byId.get(id)!.status.state === 'active');
  }

  /** The model's facts, or the default model's when the id is unknown (an estimate for pricing). */
  factsFor(id: string | null | undefined): CatalogueModel {
    return (id ? this.byId.get(id) : undefined) ?? this.byId.get(this.defaultModel)!;
  }
}

/** The built-in catalogue, with no overrides. */
export const CATALOGUE = new Catalogue();
