import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.ts';
import { loadProfile } from '../profiles/index.ts';
import { Accounts, orgIdFor, parseKey } from './accounts.ts';

describe('parseKey', () => {
  it.each([
    ['sk-tier1-alice', { tier: 1, verified: true }],
    ['sk-tier0-free', { tier: 0, verified: true }],
    ['sk-tier5-x', { tier: 5, verified: true }],
    ['sk-unverified-bob', { tier: 1, verified: false }],
    ['sk-tier1-', undefined],
    ['sk-proj-abc', undefined],
    ['tier1-x', undefined],
  ])('%s', (key, identity) => {
    expect(parseKey(key)).toEqual(identity);
  });

  it('derives an org id that does not contain the key', () => {
    const org = orgIdFor('sk-tier1-secret');
    expect(org).toMatch(/^org-[0-9a-f]{24}$/);
    expect(org).not.toContain('secret');
    expect(orgIdFor('sk-tier1-secret')).toBe(org);
  });
});

describe('Accounts', () => {
  it('gives tiers their limits and no access to free, unlisted and unverified', () => {
    const accounts = new Accounts(loadProfile('openai'), new VirtualClock(0));
    expect(accounts.get('sk-tier1-a')!.hasAccess()).toBe(true);
    expect(accounts.get('sk-tier0-a')!.hasAccess()).toBe(false);
    expect(accounts.get('sk-tier9-a')!.hasAccess()).toBe(false);
    expect(accounts.get('sk-unverified-a')!.hasAccess()).toBe(false);
    expect(accounts.get('nope')).toBeUndefined();
  });

  it('applies the profile upgrade after its delay, from first use', async () => {
    const clock = new VirtualClock(0);
    const profile = loadProfile('openai', { upgrades: [{ fromTier: 1, toTier: 2, after: '36h' }] });
    const accounts = new Accounts(profile, clock);
    const account = accounts.get('sk-tier1-a')!;
    await clock.advance(36 * 3600_000 - 1);
    expect(account.tier).toBe(1);
    await clock.advance(1);
    expect(account.tier).toBe(2);
    expect(account.limits!.remaining(clock.now())).toMatchObject({ ipm: 20 });
  });

  it('stays bounded under many keys', () => {
    const accounts = new Accounts(loadProfile('openai'), new VirtualClock(0), 100);
    for (let i = 0; i < 1000; i++) accounts.get(`sk-tier1-${i}`);
    expect(accounts.all()).toHaveLength(100);
    expect(accounts.findByOrg(orgIdFor('sk-tier1-999'))).toBeDefined();
    expect(accounts.findByOrg(orgIdFor('sk-tier1-0'))).toBeUndefined();
  });
});
