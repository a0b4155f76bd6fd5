import type { ScenarioPlan } from '../../loadtests/scenarios.ts';
import type { RunResult } from '../loadgen/engine.ts';

/** What the provider answered (the mock's stats), every attempt counted. */
export interface ProviderCounts {
  total: number;
  byStatus: Record<string, number>;
  images: number;
}

/**
 * ratelab's own figures for a run's summary (`summary.ratelab`), the same for a real run
 * and a simulated one so they compare field by field. Goodput is successful images per
 * minute at scale 1 over the whole run (queued requests drain after the last arrival).
 */
export function runFacts(run: RunResult, o: { plan: ScenarioPlan; engine: string; timeScale: number; capacity: number; provider?: ProviderCounts; refusalsByReason?: Record<string, number> }): Record<string, unknown> {
  const images = run.metrics.get('http_req_duration{status:200}')?.trend?.count ?? 0;
  const provider429 = o.provider?.byStatus['429'] ?? 0;
  return {
    scenario: o.plan.name,
    description: o.plan.description,
    engine: o.engine,
    timeScale: o.timeScale,
    capacityImagesPerMinute: o.capacity,
    requests: run.metrics.get('http_reqs')!.sum,
    images,
    goodputImagesPerMinute: (images / (Math.max(run.durationMs, 1) / 1000)) * 60 * o.timeScale,
    provider429Rate: run.metrics.get('ratelab_provider_429')!.rate,
    gatewayRefusalRate: run.metrics.get('ratelab_gateway_refusals')!.rate,
    refusalsByReason: o.refusalsByReason ?? {},
    droppedIterations: run.metrics.get('dropped_iterations')!.sum,
    // A request that got no answer at all (status 0); interrupted iterations at the end are not requests sent.
    lostRequests: run.metrics.get('http_reqs{status:0}')?.sum ?? 0,
    aborted: run.aborted,
    ...(o.provider
      ? { provider: { requests: o.provider.total, status429: provider429, rate429: o.provider.total > 0 ? provider429 / o.provider.total : 0, images: o.provider.images, byStatus: { ...o.provider.byStatus } } }
      : {}),
  };
}
