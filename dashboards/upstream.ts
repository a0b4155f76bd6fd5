import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { dashboard } from './lib/defaults.ts';
import { PanelIds, q, timeseries } from './lib/panels.ts';

const R = '$__rate_interval';
const quantile = (p: number, metric: string) => `histogram_quantile(${p}, sum by (le) (rate(${metric}_bucket[${R}])))`;

/** (2) Upstream capacity: the provider's side as the mock exports it, and the limits the gateway learned. */
export function upstreamDashboard(): Dashboard {
  const ids = new PanelIds();
  return dashboard('ratelab-upstream', 'ratelab / Upstream capacity', "The provider's view: GPU slots and queue, rejections by reason, and the rate limits the gateway reads from x-ratelimit-* headers.")
    .withRow(new RowBuilder('GPU pool').id(ids.take()))
    .withPanel(
      timeseries(ids, 'GPU slots', 'Slots generating for our clients, held by background tenants, and the pool size.', units.Short, [
        q('sum(ratelab_mock_busy_slots)', 'ours'),
        q('sum(ratelab_mock_background_slots)', 'background'),
        q('sum(ratelab_mock_slots)', 'pool'),
      ], { min: 0 }),
    )
    .withPanel(timeseries(ids, 'GPU queue', 'Requests waiting for a slot, and the queue size.', units.Short, [q('sum(ratelab_mock_queue_depth)', 'waiting'), q('sum(ratelab_mock_queue_capacity)', 'capacity')], { min: 0 }))
    .withPanel(
      timeseries(ids, 'Generation time', 'Service time of successful requests.', units.Seconds, [
        q(quantile(0.5, 'ratelab_mock_service_seconds'), 'P50'),
        q(quantile(0.95, 'ratelab_mock_service_seconds'), 'P95'),
        q(quantile(0.95, 'ratelab_mock_queue_wait_seconds'), 'queue wait P95'),
      ], { min: 0 }),
    )
    .withPanel(timeseries(ids, 'In flight', 'Image requests inside the provider (queued or generating).', units.Short, [q('sum(ratelab_mock_in_flight)', 'in flight')], { min: 0 }))
    .withRow(new RowBuilder('Answers and limits').id(ids.take()))
    .withPanel(timeseries(ids, 'Answers by reason', 'ok, rate_limit, contention, outage, …', units.RequestsPerSecond, [q(`sum by (reason) (rate(ratelab_mock_requests_total[${R}]))`, '{{reason}}')], { min: 0 }))
    .withPanel(timeseries(ids, 'Limit rejections by dimension', 'Account 429s by the limit hit (rpm, ipm, tpm).', units.RequestsPerSecond, [q(`sum by (dimension) (rate(ratelab_mock_limit_rejections_total[${R}]))`, '{{dimension}}')], { min: 0 }))
    .withPanel(
      timeseries(ids, 'Rate limits remaining (x-ratelimit-*)', "What the gateway last read from the provider's headers: remaining and limit per window.", units.Short, [
        q('sum by (upstream, dimension) (ratelab_limiter_budget_remaining)', 'remaining {{upstream}} {{dimension}}'),
        q('sum by (upstream, dimension) (ratelab_limiter_budget_limit)', 'limit {{upstream}} {{dimension}}'),
      ], { min: 0 }),
    )
    .withPanel(timeseries(ids, 'Client retries seen', 'Requests marked as SDK retries, and requests that came before the retry-after they were given.', units.RequestsPerSecond, [q(`sum(rate(ratelab_mock_client_retries_total[${R}]))`, 'retries'), q(`sum(rate(ratelab_mock_early_retries_total[${R}]))`, 'early retries')], { min: 0 }))
    .build();
}
