/**
 * Reads a few gauges from a Prometheus text exposition (the gateway's /metrics) during a
 * run, for the report's queue and concurrency plots. prom-client writes this format but
 * has no parser; the lines needed here are `name{labels} value`, summed (or the largest
 * taken) over labels.
 */

/** Every value of `name`'s series in the exposition (any labels). */
function valuesOf(exposition: string, name: string): number[] {
  const values: number[] = [];
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

export function sumOf(exposition: string, name: string): number | undefined {
  const values = valuesOf(exposition, name);
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
}

export function maxOf(exposition: string, name: string): number | undefined {
  const values = valuesOf(exposition, name);
  return values.length ? Math.max(...values) : undefined;
}

/** The gateway's answers to image requests so far, from ratelab_gateway_responses_total. */
export interface GatewayAnswers {
  total: number;
  /** Its own refusals (source="gateway"). */
  refusals: number;
  /** The provider's 429s passed through. */
  provider429: number;
  /** Any other answer but a 200. */
  errors: number;
}

export interface GatewayGauges {
  queueDepth: number | undefined;
  inFlight: number | undefined;
  concurrencyLimit: number | undefined;
  /** The worst circuit: 0 closed, 1 half-open, 2 open. */
  circuitState: number | undefined;
  answers?: GatewayAnswers;
}

/** The images route's answers by status and source (`{route="images",status="429",source="upstream"} 3`). */
export function answersOf(exposition: string): GatewayAnswers {
  const a: GatewayAnswers = { total: 0, refusals: 0, provider429: 0, errors: 0 };
  for (const line of exposition.split('\n')) {
    if (!line.startsWith('ratelab_gateway_responses_total{') || !line.includes('route="images"')) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(n)) continue;
    const status = /status="(\d+)"/.exec(line)?.[1];
    a.total += n;
    if (line.includes('source="gateway"')) a.refusals += n;
    else if (status === '429') a.provider429 += n;
    else if (status !== '200') a.errors += n;
  }
  return a;
}

export async function scrapeGateway(metricsUrl: string, signal?: AbortSignal): Promise<GatewayGauges | undefined> {
  try {
    const text = await (await fetch(metricsUrl, { signal })).text();
    return {
      queueDepth: sumOf(text, 'ratelab_limiter_queue_depth'),
      inFlight: sumOf(text, 'ratelab_limiter_in_flight'),
      concurrencyLimit: sumOf(text, 'ratelab_limiter_concurrency_limit'),
      circuitState: maxOf(text, 'ratelab_limiter_circuit_state'),
      answers: answersOf(text),
    };
  } catch {
    return undefined;
  }
}
