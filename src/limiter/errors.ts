import type { ShedReason } from '../metrics/catalogue.ts';

const MESSAGES: Record<ShedReason, string> = {
  queue_full: 'The limiter queue is full',
  deadline_exceeded: 'The task waited past its deadline',
  deadline_unmeetable: 'The task cannot start before its deadline',
  cancelled: 'The task was cancelled',
  circuit_open: 'The upstream circuit is open',
  budget_exhausted: 'The spend budget for this period is exhausted',
  spend_high_only: 'The spend budget is nearly exhausted: only high and critical priority is admitted',
  never_fits: 'The task costs more than the budget can ever admit at once',
  shutdown: 'The limiter is shutting down',
};

/**
 * A refusal by the limiter itself (never a provider error): `reason` says why, and
 * `retryAfterMs`, when known, when trying again could succeed.
 */
export class LimiterError extends Error {
  override name = 'LimiterError';
  constructor(
    readonly reason: ShedReason,
    readonly retryAfterMs?: number,
    detail?: string,
  ) {
    super(detail ? `${MESSAGES[reason]}: ${detail}` : MESSAGES[reason]);
  }
}

export const isLimiterError = (e: unknown): e is LimiterError => e instanceof LimiterError;
