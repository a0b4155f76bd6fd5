import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { CRIT_429, FIRST_IMAGE_SLO_SECONDS, WARN_429 } from '../alerts/rules.ts';
import { dashboard } from './lib/defaults.ts';
import { PanelIds, q, qWithExemplars, stat, timeseries, withThresholdLines } from './lib/panels.ts';

const R = '$__rate_interval';
const images = 'route="images"';
// A share is 0, not "no data", while none of its answers has happened yet (no 429 is good news).
const share = (filter: string) => `(sum(rate(ratelab_gateway_responses_total{${images},${filter}}[${R}])) or vector(0)) / sum(rate(ratelab_gateway_responses_total{${images}}[${R}]))`;
const quantile = (p: number, metric: string, filter = '') => `histogram_quantile(${p}, sum by (le) (rate(${metric}_bucket${filter ? `{${filter}}` : ''}[${R}])))`;

/** (1) The gateway and its limiter: RED, 429s vs refusals, queue, concurrency, budgets, retries, circuit, spend. */
export function gatewayDashboard(): Dashboard {
  const ids = new PanelIds();
  return dashboard('ratelab-gateway', 'ratelab / Gateway and limiter', 'Requests, errors and latency of the gateway; what its limiter is doing with each upstream account.')
    .withRow(new RowBuilder('Requests').id(ids.take()))
    .withPanel(timeseries(ids, 'Answers per second', 'By route and by whose answer it is: the provider (passed through) or the gateway (its own refusals and validation).', units.RequestsPerSecond, [q(`sum by (route, source) (rate(ratelab_gateway_responses_total[${R}]))`, '{{route}} {{source}}')], { min: 0 }))
    .withPanel(timeseries(ids, 'Image answers by status', 'HTTP status of image answers.', units.RequestsPerSecond, [q(`sum by (status) (rate(ratelab_gateway_responses_total{${images}}[${R}]))`, '{{status}}')], { min: 0 }))
    .withPanel(
      timeseries(ids, 'Latency of image requests', 'End to end, from request to the last byte of the answer. With tracing on, the dots are exemplars: a sampled request each, linking to its trace.', units.Seconds, [
        q(quantile(0.5, 'ratelab_gateway_request_duration_seconds', images), 'P50'),
        qWithExemplars(quantile(0.95, 'ratelab_gateway_request_duration_seconds', images), 'P95'),
        q(quantile(0.99, 'ratelab_gateway_request_duration_seconds', images), 'P99'),
      ], { min: 0 }),
    )
    .withPanel(
      withThresholdLines(
        ids,
        'Provider 429s vs gateway refusals',
        `Share of image answers. Dashed: the 429 alerts (${WARN_429 * 100} % warning, ${CRIT_429 * 100} % critical).`,
        units.PercentUnit,
        [q(share('status="429",source="upstream"'), 'provider 429'), q(share('source="gateway",status=~"429|503|504"'), 'gateway refusals'), q(share('status="429"'), 'all 429s (alerted)')],
        [
          { value: WARN_429, color: 'orange' },
          { value: CRIT_429, color: 'red' },
        ],
      ),
    )
    .withRow(new RowBuilder('Traffic: first image, tokens, spend').id(ids.take()))
    .withPanel(
      withThresholdLines(
        ids,
        'Time to first image (P95)',
        `From request to the first image a client could show: a stream's first partial image, else the whole answer. Dashed: the streamed-preview SLO (${FIRST_IMAGE_SLO_SECONDS} s).`,
        units.Seconds,
        [qWithExemplars(`histogram_quantile(0.95, sum by (le, endpoint, stream) (rate(ratelab_gateway_time_to_first_image_seconds_bucket[${R}])))`, '{{endpoint}} stream={{stream}}')],
        [{ value: FIRST_IMAGE_SLO_SECONDS, color: 'orange' }],
      ),
    )
    .withPanel(timeseries(ids, 'Tokens per minute by model', "What the provider's answers said they used (usage), input and output.", units.Short, [q(`sum by (model, direction) (rate(ratelab_gateway_tokens_total[${R}])) * 60`, '{{model}} {{direction}}')], { min: 0 }))
    .withPanel(timeseries(ids, 'Spend per hour by model (USD, estimated)', 'Answered images at the catalogue prices: an estimate from the requests, not the bill.', units.Short, [q(`sum by (model) (rate(ratelab_gateway_spend_usd_total[${R}])) * 3600`, '{{model}}')], { min: 0 }))
    .withRow(new RowBuilder('Limiter').id(ids.take()))
    .withPanel(timeseries(ids, 'Queue depth by priority', 'Requests waiting in the limiter.', units.Short, [q('sum by (priority) (ratelab_limiter_queue_depth)', '{{priority}}')], { min: 0 }))
    .withPanel(
      timeseries(ids, 'Queue wait', 'Time from arrival to the first upstream attempt.', units.Seconds, [
        q(quantile(0.5, 'ratelab_limiter_queue_wait_seconds'), 'P50'),
        q(quantile(0.95, 'ratelab_limiter_queue_wait_seconds'), 'P95'),
      ], { min: 0 }),
    )
    .withPanel(
      timeseries(ids, 'Concurrency limit vs in flight', 'The adaptive (or fixed) limit and the attempts running upstream.', units.Short, [
        q('sum by (upstream) (ratelab_limiter_concurrency_limit)', 'limit {{upstream}}'),
        q('sum by (upstream) (ratelab_limiter_in_flight)', 'in flight {{upstream}}'),
      ], { min: 0 }),
    )
    .withPanel(timeseries(ids, 'Budget remaining', 'Share of each budget (requests/images, tokens per minute) left, per upstream.', units.PercentUnit, [q('ratelab_limiter_budget_remaining / ratelab_limiter_budget_limit', '{{upstream}} {{dimension}}')], { min: 0, max: 1 }))
    .withPanel(timeseries(ids, 'Upstream attempts by outcome', 'ok, limit (429 rate limit), contention (429/503 overload), server (5xx, timeouts), fatal.', units.RequestsPerSecond, [q(`sum by (kind) (rate(ratelab_limiter_attempts_total[${R}]))`, '{{kind}}')], { min: 0 }))
    .withPanel(timeseries(ids, 'Retries and sheds by reason', 'Retries scheduled, and requests the limiter refused.', units.RequestsPerSecond, [q(`sum by (reason) (rate(ratelab_limiter_retries_total[${R}]))`, 'retry {{reason}}'), q(`sum by (reason) (rate(ratelab_limiter_sheds_total[${R}]))`, 'shed {{reason}}')], { min: 0 }))
    .withRow(new RowBuilder('State').id(ids.take()))
    .withPanel(stat(ids, 'Circuit', '0 closed, 1 half-open, 2 open (worst upstream).', units.Short, [q('max(ratelab_limiter_circuit_state)', 'circuit')], [{ value: null, color: 'green' }, { value: 1, color: 'orange' }, { value: 2, color: 'red' }]))
    .withPanel(stat(ids, 'Spend used', 'Spend this period as a share of the budget (no data: no budget set).', units.PercentUnit, [q('max(ratelab_limiter_spend_usd / ratelab_limiter_spend_budget_usd)', 'spend')], [{ value: null, color: 'green' }, { value: 0.8, color: 'orange' }, { value: 0.95, color: 'red' }]))
    .withPanel(stat(ids, 'Cooldown', 'Seconds left of an account-wide pause after a limit 429.', units.Seconds, [q('max(ratelab_limiter_cooldown_seconds)', 'cooldown')], [{ value: null, color: 'green' }, { value: 1, color: 'orange' }]))
    .withPanel(stat(ids, 'Redis store', '1: a replica runs on its local share because Redis is unreachable.', units.Short, [q('max(ratelab_limiter_store_fallback)', 'fallback')], [{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
    .withPanel(timeseries(ids, 'Async job events', 'Jobs queued, started, deferred (turned away by the gateway, no attempt spent), retried (provider failures), succeeded, failed, cancelled.', units.RequestsPerSecond, [q(`sum by (event) (rate(ratelab_gateway_jobs_total[${R}]))`, '{{event}}')], { min: 0 }))
    .withPanel(timeseries(ids, 'Spend (USD)', 'Spend this period and the budget.', units.Short, [q('sum by (upstream) (ratelab_limiter_spend_usd)', 'spent {{upstream}}'), q('sum by (upstream) (ratelab_limiter_spend_budget_usd)', 'budget {{upstream}}')], { min: 0 }))
    .build();
}
