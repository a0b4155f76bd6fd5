import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { toMs } from '../core/duration.ts';

/**
 * The highest arrival rate, per second of the run's clock, that these options ever ask for:
 * each arrival-rate scenario's rate or highest stage, summed over scenarios as if their
 * peaks met. Closed-model scenarios (VUs, iterations) set no rate and add nothing.
 */
export function peakArrivalsPerSecond(options: LoadOptions): number {
  let total = 0;
  for (const s of Object.values(options.scenarios)) {
    if (s.executor !== 'constant-arrival-rate' && s.executor !== 'ramping-arrival-rate') continue;
    const perSecond = 1000 / toMs(s.timeUnit ?? '1s');
    const peak = s.executor === 'constant-arrival-rate' ? s.rate : Math.max(s.startRate ?? 0, ...s.stages.map((st) => st.target));
    total += peak * perSecond;
  }
  return total;
}

/** The VUs the options make before their first iteration: preAllocatedVUs, or the closed model's (start) VUs. */
export function startingVus(options: LoadOptions): number {
  let total = 0;
  for (const s of Object.values(options.scenarios)) {
    if ('preAllocatedVUs' in s) total += s.preAllocatedVUs;
    else if (s.executor === 'ramping-vus') total += s.startVUs ?? 1;
    else total += s.vus ?? 1;
  }
  return total;
}
