import { parseLimiterConfig, type LimiterConfigInput } from '../limiter/config.ts';

/** One setting the tuner varies around its best grid point, as labelled config edits. */
export interface Refinement {
  setting: string;
  /** `apply` returns undefined where the edit does not fit the config (e.g. bounds of a fixed limit). */
  values: { label: string; apply: (c: LimiterConfigInput) => LimiterConfigInput | undefined }[];
}

type Concurrency = NonNullable<LimiterConfigInput['concurrency']>;

const withConcurrency = (c: LimiterConfigInput, patch: Partial<Concurrency>): LimiterConfigInput => ({ ...c, concurrency: { ...c.concurrency, ...patch } });
const isFixed = (c: LimiterConfigInput): boolean => c.concurrency?.mode === 'fixed';

/**
 * The settings the grid leaves at their defaults, each with a few values worth trying:
 * concurrency bounds, the IPM burst, queue size, backoff, retry budget and attempts. Sizes
 * are relative to the account's images per minute (`ipm`), so they mean the same at any tier.
 */
export function refinements(account: { ipm: number | undefined }): Refinement[] {
  const ipm = account.ipm;
  const out: Refinement[] = [
    {
      setting: 'concurrency bounds',
      values: [
        ...[16, 32, 64].map((max) => ({ label: `adaptive max ${max}`, apply: (c: LimiterConfigInput) => (isFixed(c) ? undefined : withConcurrency(c, { max, limit: Math.min(8, max) })) })),
        ...[8, 24, 32].map((limit) => ({ label: `fixed ${limit}`, apply: (c: LimiterConfigInput) => (isFixed(c) ? withConcurrency(c, { limit }) : undefined) })),
      ],
    },
  ];
  if (ipm !== undefined) {
    out.push(
      {
        setting: 'burst',
        // A smaller IPM burst spreads a queue's release over the window instead of sending it at once.
        values: [0.5, 0.25, 0.1].map((share) => ({
          label: `IPM burst ${share} of the limit`,
          apply: (c: LimiterConfigInput) => {
            // The share of the limit the budgets use, with the config's own default when unset.
            const safety = parseLimiterConfig(c).budgets.safety;
            return { ...c, budgets: { ...c.budgets, ipm: { limit: 'auto' as const, burst: Math.max(1, Math.round(share * safety * ipm)) } } };
          },
        })),
      },
      {
        setting: 'queue size',
        // Minutes of the account's throughput that may wait: past that a request is refused at once.
        values: [1, 2, 4].map((minutes) => ({ label: `queue.maxSize ${minutes * ipm}`, apply: (c: LimiterConfigInput) => ({ ...c, queue: { ...c.queue, maxSize: minutes * ipm } }) })),
      },
    );
  }
  out.push(
    {
      setting: 'backoff',
      values: ['250ms', '3s', '10s'].map((baseDelay) => ({ label: `retry.baseDelay ${baseDelay}`, apply: (c: LimiterConfigInput) => ({ ...c, retry: { ...c.retry, baseDelay } }) })),
    },
    {
      setting: 'retry budget',
      values: [0.05, 0.2, 0.5].map((budgetRatio) => ({ label: `retry.budgetRatio ${budgetRatio}`, apply: (c: LimiterConfigInput) => ({ ...c, retry: { ...c.retry, budgetRatio } }) })),
    },
    {
      setting: 'attempts',
      values: [2, 6].map((maxAttempts) => ({ label: `retry.maxAttempts ${maxAttempts}`, apply: (c: LimiterConfigInput) => ({ ...c, retry: { ...c.retry, maxAttempts } }) })),
    },
  );
  return out;
}
