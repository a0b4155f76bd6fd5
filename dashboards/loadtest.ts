import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { CRIT_429, WARN_429 } from '../alerts/rules.ts';
import { dashboard } from './lib/defaults.ts';
import { PanelIds, q, timeseries, withThresholdLines } from './lib/panels.ts';

const R = '$__rate_interval';

/**
 * (3) A load test, from k6's Prometheus remote-write metrics (k6 run -o
 * experimental-prometheus-rw) or ratelab's embedded engine (--prometheus-port), which
 * exports the same names. Several k6 series (tags) are summed or maxed.
 */
export function loadtestDashboard(): Dashboard {
  const ids = new PanelIds();
  return dashboard('ratelab-loadtest', 'ratelab / Load test', "k6's metrics from either engine: offered and completed load, latency, 429s vs refusals, dropped iterations.")
    .withRow(new RowBuilder('Load').id(ids.take()))
    .withPanel(
      timeseries(ids, 'Requests and iterations per second', 'Completed requests, iterations, and iterations dropped for want of a free VU.', units.RequestsPerSecond, [
        q(`sum(rate(k6_http_reqs_total[${R}]))`, 'requests'),
        q(`sum(rate(k6_iterations_total[${R}]))`, 'iterations'),
        q(`sum(rate(k6_dropped_iterations_total[${R}]))`, 'dropped'),
      ], { min: 0 }),
    )
    .withPanel(timeseries(ids, 'Virtual users', 'Busy VUs and initialized VUs.', units.Short, [q('sum(k6_vus)', 'vus'), q('sum(k6_vus_max)', 'vus max')], { min: 0 }))
    .withPanel(
      timeseries(ids, 'Request duration', 'k6 trend stats (seconds).', units.Seconds, [
        q('max(k6_http_req_duration_med)', 'median'),
        q('max(k6_http_req_duration_p95)', 'P95'),
        q('max(k6_http_req_duration_p99)', 'P99'),
        q('max(k6_ratelab_req_duration_intended_p95)', 'P95 from intended start'),
      ], { min: 0 }),
    )
    .withPanel(
      withThresholdLines(
        ids,
        'Provider 429s vs gateway refusals',
        'Share of answers; dashed: the 10 % / 30 % alert levels.',
        units.PercentUnit,
        [q('max(k6_ratelab_provider_429_rate)', 'provider 429'), q('max(k6_ratelab_gateway_refusals_rate)', 'gateway refusals'), q('max(k6_http_req_failed_rate)', 'failed requests')],
        [
          { value: WARN_429, color: 'orange' },
          { value: CRIT_429, color: 'red' },
        ],
      ),
    )
    .withRow(new RowBuilder('Gateway as the client saw it').id(ids.take()))
    .withPanel(timeseries(ids, 'Queue wait (x-ratelab-queue-ms)', 'Time requests waited in the gateway, P95 (seconds).', units.Seconds, [q('max(k6_ratelab_queue_wait_p95)', 'P95'), q('max(k6_ratelab_queue_wait_med)', 'median')], { min: 0 }))
    .withPanel(timeseries(ids, 'Checks and data', 'Share of checks passed; bytes received per second.', units.PercentUnit, [q('max(k6_checks_rate)', 'checks')], { min: 0, max: 1 }))
    .build();
}
