import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import type { Metrics } from '../loadgen/metrics.ts';

/**
 * The gateway's refusals of a run counted by reason (their `error.code`, which the engine
 * tags on `ratelab_gateway_refusals`): what the report's "refusals by reason" table shows.
 */
export function countRefusalReasons(metrics: Metrics): () => Record<string, number> {
  const counts = new Map<string, number>();
  metrics.listen((name, value, tags) => {
    if (name !== M.refusals.name || !value) return;
    const reason = tags?.reason ?? 'unknown';
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  });
  return () => Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
