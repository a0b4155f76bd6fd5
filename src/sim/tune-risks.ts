import { humanDuration } from '../core/duration.ts';
import { parseLimiterConfig } from '../limiter/config.ts';
import type { Scored } from './tune.ts';

/**
 * What a recommendation risks that the simulator cannot see: it simulates an account that is
 * the gateway's alone, with limits enforced per minute exactly as configured.
 */
export function recommendationRisks(best: Scored, ipm: number | undefined): string[] {
  const config = parseLimiterConfig(best.config);
  const risks: string[] = [];
  const safety = config.budgets.safety;
  if (safety >= 0.95) {
    risks.push(
      `budgets.safety ${safety}: ${safety === 1 ? 'no' : 'little'} headroom under the account's limits. Other clients of the same account, clock skew between replicas, or a provider that counts differently turn straight into 429s; use 0.9 unless the account is this gateway's alone.`,
    );
  }
  if (best.figures.p95 > 60_000) {
    risks.push(`P95 ${humanDuration(best.figures.p95)}: one request in twenty waits over a minute for its image. Fine for async jobs, long for a user holding a connection; a lower --p95 trades waiting for refusing.`);
  }
  const burst = config.budgets.ipm?.burst;
  if (ipm !== undefined) {
    const share = burst === undefined ? 1 : burst / (ipm * safety);
    if (share > 0.25) {
      risks.push(
        `IPM burst ${share >= 1 ? 'the whole limit' : `${share.toFixed(2)} of the limit`}: after a quiet spell that share of a minute's images leaves at once. A provider that enforces its limit over shorter periods (per second) would answer part of it with 429s; the simulated account refills per minute.`,
      );
    }
  }
  if (best.figures.refusalRate > 0.01) {
    risks.push(`${(100 * best.figures.refusalRate).toFixed(1)} % of requests are refused by the gateway: the price of the P95 limit at this load. More capacity (a higher tier, another upstream) is the only way to serve them in time.`);
  }
  return risks;
}
