import type { LimiterConfig } from './config.ts';

/** Every duration of the config × the time scale: windows, waits, backoff, breaker, spend period. */
export function scaleLimiterConfig(c: LimiterConfig, s: number): LimiterConfig {
  if (s === 1) return c;
  return {
    ...c,
    budgets: { ...c.budgets, window: c.budgets.window * s },
    queue: { ...c.queue, maxWait: c.queue.maxWait * s },
    retry: {
      ...c.retry,
      baseDelay: c.retry.baseDelay * s,
      maxDelay: c.retry.maxDelay * s,
      ...(c.retry.attemptTimeout === undefined ? {} : { attemptTimeout: c.retry.attemptTimeout * s }),
    },
    circuit: { ...c.circuit, openFor: c.circuit.openFor * s },
    spend: { ...c.spend, period: c.spend.period * s },
  };
}
