import { createHash } from 'node:crypto';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import type { Profile, TierLimits } from '../profiles/schema.ts';
import { AccountLimits } from './limits.ts';

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
  limits: AccountLimits | undefined;
  /** Earliest time this account was told it may retry (after a 429 or 503 hint). */
  notBefore = 0;
  private readonly timers: TimerHandle[] = [];

  constructor(
    readonly org: string,
    public tier: number,
    readonly verified: boolean,
    readonly firstSeen: number,
    private readonly profile: Profile,
  ) {
    const tierLimits = this.tierLimits();
    this.limits = tierLimits ? new AccountLimits(profile.limits, tierLimits, firstSeen) : undefined;
  }

  tierLimits(): TierLimits | undefined {
    return this.profile.limits.tiers[String(this.tier)] ?? undefined;
  }

  /** Free tier, tiers the profile does not list, and unverified orgs have no access. */
  hasAccess(): boolean {
    return this.verified && this.limits !== undefined;
  }

  setTier(tier: number, now: number): void {
    this.tier = tier;
    const tierLimits = this.tierLimits();
    if (!tierLimits) this.limits = undefined;
    else if (this.limits) this.limits.setTier(tierLimits, now);
    else this.limits = new AccountLimits(this.profile.limits, tierLimits, now);
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
    private readonly maxAccounts = 10_000,
  ) {}

  get(key: string): Account | undefined {
    const existing = this.byKey.get(key);
    if (existing) return existing;
    const identity = parseKey(key);
    if (!identity) return undefined;
    const now = this.clock.now();
    const account = new Account(orgIdFor(key), identity.tier, identity.verified, now, this.profile);
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
