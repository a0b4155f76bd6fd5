/**
 * ratelab's Prometheus rules, written once: `npm run alerts` writes the shipped file
 * (alerts/ratelab.rules.yml, time scale 1), and the live check loads `ratelabRules(s)`:
 * the same rules with every window, `for` and evaluation interval multiplied by s, and
 * latency thresholds too (a time-scaled stack reports scaled latencies).
 */
import { stringify } from 'yaml';

export const SLO_AVAILABILITY = 0.99;
const BUDGET = 1 - SLO_AVAILABILITY;
/** Thresholds as PromQL reads them: no float noise (14.4 × 0.01 = 0.144, not 0.14400000000000002). */
const num = (x: number): string => String(Number(x.toPrecision(6)));
/** The seed's 429 thresholds. */
export const WARN_429 = 0.1;
export const CRIT_429 = 0.3;
export const P95_SLO_SECONDS = 90;
/** A streamed preview should show something within this (P95): the point of streaming. */
export const FIRST_IMAGE_SLO_SECONDS = 30;

interface Recording {
  record: string;
  expr: string;
}
interface Alerting {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string; runbook_url: string };
}
export interface RuleFile {
  groups: { name: string; interval: string; rules: (Recording | Alerting)[] }[];
}

/** A Prometheus duration, readable at scale 1 ("5m"), exact when scaled ("15000ms"). */
export function promDuration(ms: number): string {
  const r = Math.max(1, Math.round(ms));
  if (r % 3_600_000 === 0 && r >= 86_400_000 && r % 86_400_000 === 0) return `${r / 86_400_000}d`;
  if (r % 3_600_000 === 0) return `${r / 3_600_000}h`;
  if (r % 60_000 === 0) return `${r / 60_000}m`;
  if (r % 1000 === 0) return `${r / 1000}s`;
  return `${r}ms`;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
/** SLO windows of the SRE workbook's multi-window, multi-burn-rate alerts. */
export const SLO_WINDOWS = { '5m': 5 * MIN, '30m': 30 * MIN, '1h': HOUR, '2h': 2 * HOUR, '6h': 6 * HOUR, '1d': 24 * HOUR, '3d': 72 * HOUR } as const;

const runbook = (alert: string) => `https://github.com/ratelab/ratelab/blob/main/alerts/README.md#${alert.toLowerCase()}`;

export function ratelabRules(scale = 1): RuleFile {
  const d = (ms: number) => promDuration(ms * scale);
  const w5 = d(5 * MIN);
  const images = 'route="images"';
  const alert = (name: string, severity: 'warning' | 'critical', expr: string, forMs: number, summary: string, description: string): Alerting => ({
    alert: name,
    expr,
    for: d(forMs),
    labels: { severity },
    annotations: { summary, description, runbook_url: runbook(name) },
  });
  const errorRatio = (key: keyof typeof SLO_WINDOWS) => `ratelab:gateway_error_ratio:rate${key}`;

  return {
    groups: [
      {
        name: 'ratelab',
        interval: d(30_000),
        rules: [
          { record: 'ratelab:gateway_responses:rate5m', expr: `sum by (route, status, source) (rate(ratelab_gateway_responses_total[${w5}]))` },
          {
            record: 'ratelab:gateway_429_ratio:rate5m',
            expr: `sum(rate(ratelab_gateway_responses_total{${images},status="429"}[${w5}])) / sum(rate(ratelab_gateway_responses_total{${images}}[${w5}]))`,
          },
          {
            record: 'ratelab:provider_throttle_ratio:rate5m',
            expr: `sum by (upstream) (rate(ratelab_limiter_attempts_total{kind=~"limit|contention"}[${w5}])) / sum by (upstream) (rate(ratelab_limiter_attempts_total[${w5}]))`,
          },
          {
            record: 'ratelab:gateway_latency_p95:rate5m',
            expr: `histogram_quantile(0.95, sum by (le, route) (rate(ratelab_gateway_request_duration_seconds_bucket[${w5}])))`,
          },
          {
            record: 'ratelab:gateway_first_image_p95:rate5m',
            expr: `histogram_quantile(0.95, sum by (le, endpoint, stream) (rate(ratelab_gateway_time_to_first_image_seconds_bucket[${w5}])))`,
          },
          { record: 'ratelab:limiter_queue_depth:sum', expr: 'sum by (upstream) (ratelab_limiter_queue_depth)' },
          // Availability: an image request fails when the client gets a 5xx or a 429 (from the provider or the gateway).
          ...Object.entries(SLO_WINDOWS).map(([key, ms]) => ({
            record: errorRatio(key as keyof typeof SLO_WINDOWS),
            expr: `sum(rate(ratelab_gateway_responses_total{${images},status=~"5..|429"}[${d(ms)}])) / sum(rate(ratelab_gateway_responses_total{${images}}[${d(ms)}]))`,
          })),
          // Alerts follow in the same group: rules of a group run in order, so each alert reads the
          // recordings of the same evaluation (across groups the order is not fixed, and an alert
          // could read a recording one interval old).
          alert('RatelabGateway429RateWarning', 'warning', `ratelab:gateway_429_ratio:rate5m > ${WARN_429}`, 5 * MIN, 'More than 10 % of image requests get 429', '{{ $value | humanizePercentage }} of image requests answered 429 (provider or gateway) over 5 minutes.'),
          alert('RatelabGateway429RateCritical', 'critical', `ratelab:gateway_429_ratio:rate5m > ${CRIT_429}`, 5 * MIN, 'More than 30 % of image requests get 429', '{{ $value | humanizePercentage }} of image requests answered 429 over 5 minutes: a 429 storm.'),
          alert('RatelabProviderThrottling', 'warning', 'ratelab:provider_throttle_ratio:rate5m > 0.05', 10 * MIN, 'The provider throttles the limiter', 'Upstream {{ $labels.upstream }}: {{ $value | humanizePercentage }} of attempts got a limit or contention answer; the limiter should keep this near 0.'),
          alert('RatelabLatencyP95SLO', 'warning', `ratelab:gateway_latency_p95:rate5m{${images}} > ${num(P95_SLO_SECONDS * scale)}`, 10 * MIN, 'Image P95 latency above its SLO', `P95 of image requests is {{ $value | humanizeDuration }} (SLO ${P95_SLO_SECONDS} s).`),
          alert(
            'RatelabFirstImageP95SLO',
            'warning',
            `ratelab:gateway_first_image_p95:rate5m{stream="true"} > ${num(FIRST_IMAGE_SLO_SECONDS * scale)}`,
            10 * MIN,
            'Streamed images: P95 time to the first image above its SLO',
            `P95 time to the first partial image of streamed {{ $labels.endpoint }} is {{ $value | humanizeDuration }} (SLO ${FIRST_IMAGE_SLO_SECONDS} s): previews no longer come early.`,
          ),
          alert(
            'RatelabErrorBudgetBurnFast',
            'critical',
            `(${errorRatio('1h')} > ${num(14.4 * BUDGET)} and ${errorRatio('5m')} > ${num(14.4 * BUDGET)}) or (${errorRatio('6h')} > ${num(6 * BUDGET)} and ${errorRatio('30m')} > ${num(6 * BUDGET)})`,
            2 * MIN,
            'Availability error budget burning fast',
            `The ${SLO_AVAILABILITY * 100} % availability SLO is burning at 14.4x (1 h) or 6x (6 h) its budget.`,
          ),
          alert(
            'RatelabErrorBudgetBurnSlow',
            'warning',
            `(${errorRatio('1d')} > ${num(3 * BUDGET)} and ${errorRatio('2h')} > ${num(3 * BUDGET)}) or (${errorRatio('3d')} > ${num(BUDGET)} and ${errorRatio('6h')} > ${num(BUDGET)})`,
            1 * HOUR,
            'Availability error budget burning',
            `The ${SLO_AVAILABILITY * 100} % availability SLO is burning at 3x (1 d) or 1x (3 d) its budget.`,
          ),
          alert('RatelabQueueGrowing', 'warning', `ratelab:limiter_queue_depth:sum > 50 and deriv(ratelab:limiter_queue_depth:sum[${d(10 * MIN)}]) > 0`, 10 * MIN, 'The limiter queue keeps growing', 'Upstream {{ $labels.upstream }}: {{ $value }} requests queued and rising for 10 minutes: demand exceeds capacity.'),
          alert('RatelabCircuitOpen', 'critical', 'max by (upstream) (ratelab_limiter_circuit_state) == 2', 1 * MIN, 'Upstream circuit open', 'Upstream {{ $labels.upstream }} failed too often; requests to it are refused or fail over.'),
          alert('RatelabSpendWarning', 'warning', 'max by (upstream) (ratelab_limiter_spend_usd / ratelab_limiter_spend_budget_usd) >= 0.8', 1 * MIN, 'Spend at 80 % of budget', 'Upstream {{ $labels.upstream }} has used {{ $value | humanizePercentage }} of its spend budget.'),
          alert('RatelabSpendCritical', 'critical', 'max by (upstream) (ratelab_limiter_spend_usd / ratelab_limiter_spend_budget_usd) >= 0.95', 1 * MIN, 'Spend at 95 % of budget: only high priority admitted', 'Upstream {{ $labels.upstream }} has used {{ $value | humanizePercentage }} of its spend budget; normal and low priority are refused.'),
          alert(
            'RatelabSustainedShedding',
            'warning',
            `sum by (upstream) (rate(ratelab_limiter_sheds_total{reason!="cancelled"}[${d(10 * MIN)}])) / sum by (upstream) (rate(ratelab_limiter_tasks_total[${d(10 * MIN)}])) > 0.05`,
            15 * MIN,
            'The limiter sheds more than 5 % of requests',
            'Upstream {{ $labels.upstream }}: {{ $value | humanizePercentage }} of requests shed for 15 minutes.',
          ),
          alert('RatelabRedisStoreUnreachable', 'critical', 'max by (upstream) (ratelab_limiter_store_fallback) == 1', 2 * MIN, 'Limiter store (Redis) unreachable', 'Upstream {{ $labels.upstream }}: replicas run on local shares of the limits until Redis answers.'),
        ],
      },
    ],
  };
}

export function rulesYaml(scale = 1): string {
  const header = scale === 1 ? '# Generated by `npm run alerts` from alerts/rules.ts: edit that file, not this one.\n' : `# ratelab rules at time scale ${scale} (generated for the live check).\n`;
  return header + stringify(ratelabRules(scale), { lineWidth: 0 });
}
