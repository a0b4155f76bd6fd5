import { suggestionText } from '../core/suggest.ts';
import { Trend } from './trend.ts';

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type Tags = Readonly<Record<string, string>>;

/** One k6 metric's running state. */
export class Metric {
  // counter
  sum = 0;
  // gauge
  value = 0;
  gaugeMin = Infinity;
  gaugeMax = -Infinity;
  // rate
  passes = 0;
  fails = 0;
  readonly trend: Trend | undefined;

  constructor(
    readonly name: string,
    readonly type: MetricType,
    /** Trends of durations (ms) and counters of bytes say so, as k6's `contains`. */
    readonly contains: 'time' | 'data' | 'default' = 'default',
  ) {
    this.trend = type === 'trend' ? new Trend() : undefined;
  }

  add(value: number): void {
    switch (this.type) {
      case 'counter':
        this.sum += value;
        return;
      case 'gauge':
        this.value = value;
        if (value < this.gaugeMin) this.gaugeMin = value;
        if (value > this.gaugeMax) this.gaugeMax = value;
        return;
      case 'rate':
        if (value) this.passes++;
        else this.fails++;
        return;
      case 'trend':
        this.trend!.add(value);
    }
  }

  get rate(): number {
    const total = this.passes + this.fails;
    return total === 0 ? 0 : this.passes / total;
  }
}

interface SubMetric {
  metric: Metric;
  parent: string;
  selector: [string, string][];
}

/** `http_req_duration{status:200,expected_response:true}` → parent and tag selector. */
export function parseMetricName(name: string): { parent: string; selector: [string, string][] } {
  const m = /^([A-Za-z0-9_]+)(?:\{(.*)\})?$/.exec(name.trim());
  if (!m) throw new RangeError(`Expected a metric name like http_req_duration or http_req_duration{status:200}, got \`${name}\` (string)`);
  const selector = (m[2] ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part): [string, string] => {
      const i = part.indexOf(':');
      if (i < 1) throw new RangeError(`Expected tag selectors like {status:200} in \`${name}\`, got \`${part}\` (string)`);
      return [part.slice(0, i).trim(), part.slice(i + 1).trim().replace(/^["']|["']$/g, '')];
    });
  return { parent: m[1]!, selector };
}

/** Whether `tags` has every tag of the selector: a loop, not `every` with a closure per call (every sample of every metric passes here). */
function matches(selector: [string, string][], tags: Tags): boolean {
  for (let i = 0; i < selector.length; i++) if (tags[selector[i]![0]] !== selector[i]![1]) return false;
  return true;
}

/**
 * The run's metrics, by k6 name, with the tag-filtered sub-metrics that thresholds ask for
 * (`http_req_duration{expected_response:true}`): a sample feeds its metric and every
 * sub-metric whose tags it matches.
 */
export class Metrics {
  private readonly byName = new Map<string, Metric>();
  private readonly subs = new Map<string, SubMetric[]>();
  private readonly listeners: ((name: string, value: number, tags: Tags | undefined) => void)[] = [];

  /** Sees every sample (time series, live export). */
  listen(fn: (name: string, value: number, tags: Tags | undefined) => void): void {
    this.listeners.push(fn);
  }

  define(name: string, type: MetricType, contains: Metric['contains'] = 'default'): Metric {
    let metric = this.byName.get(name);
    if (!metric) this.byName.set(name, (metric = new Metric(name, type, contains)));
    return metric;
  }

  /** Declares a sub-metric (a name with tags); its parent must be defined. */
  subMetric(name: string): Metric {
    const existing = this.byName.get(name);
    if (existing) return existing;
    const { parent, selector } = parseMetricName(name);
    const base = this.byName.get(parent);
    if (!base) throw new RangeError(`Expected \`${name}\` to name a known metric, got \`${parent}\` (string).${suggestionText(parent, [...this.byName.keys()].filter((n) => !n.includes('{')).sort(), 'metrics')}`);
    const metric = new Metric(name, base.type, base.contains);
    this.byName.set(name, metric);
    const list = this.subs.get(parent) ?? [];
    list.push({ metric, parent, selector });
    this.subs.set(parent, list);
    return metric;
  }

  get(name: string): Metric | undefined {
    return this.byName.get(name);
  }

  all(): Metric[] {
    return [...this.byName.values()];
  }

  add(name: string, value: number, tags?: Tags): void {
    const metric = this.byName.get(name);
    if (!metric) throw new RangeError(`Expected a defined metric, got \`${name}\` (string)`);
    metric.add(value);
    for (const listener of this.listeners) listener(name, value, tags);
    const subs = this.subs.get(name);
    if (!subs) return;
    if (!tags) return;
    for (const sub of subs) if (matches(sub.selector, tags)) sub.metric.add(value);
  }
}
