import { createHash } from 'node:crypto';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import type { CatalogueModel } from '../../src/openai/catalogue.ts';
import type { Profile, TierLimits } from '../profiles/schema.ts';
import { AccountLimits } from './limits.ts';

/** Which bucket a model's requests draw from, and the tier table that sizes it. */
export interface LimitPlan {
  bucketOf(model: CatalogueModel): string;
  tiersOf(model: CatalogueModel): Readonly<Record<string, TierLimits | null>>;
}

/**
 * The profile's choice: one bucket per model family with the catalogue's (or the
 * profile's) tier table, or one bucket for every model sized by the default model's.
 */
export function limitPlan(profile: Profile, defaultModel: CatalogueModel): LimitPlan {
  const tiersOf = (model: CatalogueModel) => profile.limits.tiers ?? model.tiers.table;
  if (profile.limits.bucket === 'shared') return { bucketOf: () => 'shared', tiersOf: () => tiersOf(defaultModel) };
  return { bucketOf: (model) => model.family, tiersOf };
}

export type KeyIdentity = { tier: number; verified: boolean };

/**
 * Keys choose the account with no config: `sk-tier<N>-<anything>` is tier N,
 * `sk-unverified-<anything>` a tier-1 organization not verified for the model.
 */
export function parseKey(key: string): KeyIdentity | undefined {
  const tier = /^sk-tier(\d{1,2})-\S+$/.exec(key);
  if (tier) return { tier: Number(tier[1]), verified: true };
  if (/^sk-unverified-\S+$/.test(key)) return { tier: 1, verified: false };
  return undefined;
}

/** A stable organization id derived from the key; the key itself is never stored or shown. */
export function orgIdFor(key: string): string {
  return `org-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

export class Account {
  /** Limits by bucket (a model family, or `shared`), made on the first request that draws from one. */
  private readonly buckets = new Map<string, { limits: AccountLimits; tiers: Readonly<Record<string, TierLimits | null>> }>();
  /** Earliest time this account was told it may retry (after a 429 or 503 hint). */
  notBefore = 0;
  private readonly timers: TimerHandle[] = [];

  constructor(
    readonly org: string,
    public tier: number,
    readonly verified: boolean,
    readonly firstSeen: number,
    private readonly profile: Profile,
    private readonly plan: LimitPlan,
  ) {}

  /**
   * The limits `model`'s requests draw from, or undefined when this account has no access
   * to it: free tier, tiers the table does not list, unverified orgs.
   */
  limitsFor(model: CatalogueModel, now: number): AccountLimits | undefined {
    if (!this.verified) return undefined;
    const key = this.plan.bucketOf(model);
    const existing = this.buckets.get(key);
    if (existing) return existing.limits;
    const tiers = this.plan.tiersOf(model);
    const limits = tiers[String(this.tier)];
    if (!limits) return undefined;
    const created = new AccountLimits(this.profile.limits, limits, now);
    this.buckets.set(key, { limits: created, tiers });
    return created;
  }

  /** Buckets in use, by name (for stats). */
  usedBuckets(): [string, AccountLimits][] {
    return [...this.buckets].map(([key, b]) => [key, b.limits]);
  }

  setTier(tier: number, now: number): void {
    this.tier = tier;
    for (const [key, bucket] of this.buckets) {
      const limits = bucket.tiers[String(tier)];
      if (limits) bucket.limits.setTier(limits, now);
      else this.buckets.delete(key);
    }
  }

  schedule(timer: TimerHandle): void {
    this.timers.push(timer);
  }

  dispose(): void {
    for (const t of this.timers) t.cancel();
  }
}

/** Accounts by key, created on first use; bounded so random keys cannot grow memory. */
export class Accounts {
  private readonly byKey = new Map<string, Account>();
  private readonly byOrg = new Map<string, Account>();

  constructor(
    private readonly profile: Profile,
    private readonly clock: Clock,
    private readonly plan: LimitPlan,
    private readonly maxAccounts = 10_000,
  ) {}

  get(key: string): Account | undefined {
    const existing = this.byKey.get(key);
    if (existing) return existing;
    const identity = parseKey(key);
    if (!identity) return undefined;
    const now = this.clock.now();
    const account = new Account(orgIdFor(key), identity.tier, identity.verified, now, this.profile, this.plan);
    for (const upgrade of this.profile.upgrades) {
      if (upgrade.fromTier === identity.tier) this.scheduleTier(account, upgrade.toTier, upgrade.after, upgrade.fromTier);
    }
    if (this.byKey.size >= this.maxAccounts) this.evictOldest();
    this.byKey.set(key, account);
    this.byOrg.set(account.org, account);
    return account;
  }

  findByOrg(org: string): Account | undefined {
    return this.byOrg.get(org);
  }

  /** Changes the tier now, or after `afterMs` (clock ms) if the account is then still on `onlyFrom`. */
  scheduleTier(account: Account, tier: number, afterMs: number, onlyFrom?: number): void {
    if (afterMs <= 0) {
      account.setTier(tier, this.clock.now());
      return;
    }
    account.schedule(
      this.clock.setTimer(() => {
        if (onlyFrom === undefined || account.tier === onlyFrom) account.setTier(tier, this.clock.now());
      }, afterMs),
    );
  }

  all(): Account[] {
    return [...this.byKey.values()];
  }

  dispose(): void {
    for (const account of this.byKey.values()) account.dispose();
  }

  private evictOldest(): void {
    const [oldestKey, oldest] = this.byKey.entries().next().value as [string, Account];
    oldest.dispose();
    this.byKey.delete(oldestKey);
    this.byOrg.delete(oldest.org);
  }
}
