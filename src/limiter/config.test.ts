import { describe, expect, it } from 'vitest';
import { parseLimiterConfig } from './config.ts';

describe('parseLimiterConfig', () => {
  it('fills documented defaults', () => {
    const config = parseLimiterConfig({});
    expect(config.concurrency).toMatchObject({ mode: 'adaptive', limit: 8, min: 1, max: 256 });
    expect(config.queue).toEqual({ maxSize: 10_000, maxWait: 300_000, refuseEarly: true });
    expect(config.retry).toMatchObject({ maxAttempts: 4, budgetRatio: 0.1 });
    expect(config.spend).toMatchObject({ warnAt: 0.8, highOnlyAt: 0.95, prices: {} });
    expect(config.budgets).toMatchObject({ safety: 0.9, window: 60_000, syncFromHeaders: true });
  });

  it('writes each default once: an absent section, an empty one and the shipped example (budget limits aside) resolve alike', async () => {
    const { createLimiter } = await import('./limiter.ts');
    const sections = { budgets: {}, concurrency: {}, queue: {}, retry: {}, circuit: {}, spend: {} };
    const none = parseLimiterConfig({});
    expect(parseLimiterConfig(sections)).toEqual(none);
    for (const [name, section] of Object.entries(sections)) expect(parseLimiterConfig({ [name]: section }), name).toEqual(none);
    const { loadLimiterConfig } = await import('./config.ts');
    const example = loadLimiterConfig('src/limiter/limiter.example.yaml');
    expect({ ...example, budgets: { ...example.budgets, ipm: undefined, tpm: undefined }, spend: { ...example.spend, budget: undefined } }).toEqual({
      ...none,
      budgets: { ...none.budgets, ipm: undefined, tpm: undefined },
      spend: { ...none.spend, budget: undefined },
    });
    // And the limiter built from each holds the same settings.
    const a = createLimiter({});
    const b = createLimiter({ concurrency: {} });
    try {
      expect(b.config).toEqual(a.config);
    } finally {
      a.close();
      b.close();
    }
  });

  it('reads durations as Go strings or milliseconds', () => {
    const config = parseLimiterConfig({ queue: { maxWait: '90s' }, retry: { baseDelay: 250 } });
    expect(config.queue.maxWait).toBe(90_000);
    expect(config.retry.baseDelay).toBe(250);
  });

  it.each([
    [{ concurrency: { limit: 0 } }, 'Expected `concurrency.limit` to be an integer >= 1, got `0` (number)'],
    [{ budgets: { ipm: { limit: -5 } } }, 'Expected `budgets.ipm.limit` to be an integer >= 1, got `-5` (number)'],
    [{ queue: { maxWait: 'soon' } }, 'Expected `queue.maxWait` to be a Go duration'],
    [{ concurrency: { mode: 'smart' } }, 'Expected `concurrency.mode` to be one of "fixed", "adaptive", got `smart` (string)'],
    [{ retry: { attempts: 3 } }, 'Unknown field `attempts` in retry'],
    [{ concurrency: { limit: 300 } }, 'Expected `concurrency.limit` to be min <= limit <= max'],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseLimiterConfig(input)).toThrow(message);
  });
});

describe('the shipped example config', () => {
  it('parses and matches the documented defaults where it says so', async () => {
    const { loadLimiterConfig } = await import('./config.ts');
    const example = loadLimiterConfig('src/limiter/limiter.example.yaml');
    const defaults = parseLimiterConfig({});
    expect(example.budgets.ipm).toEqual({ limit: 20 });
    expect(example.concurrency).toEqual(defaults.concurrency);
    expect(example.queue).toEqual(defaults.queue);
    expect(example.retry).toEqual(defaults.retry);
    expect(example.circuit).toEqual(defaults.circuit);
    expect(example.spend).toEqual(defaults.spend);
  });
});
