import type { RequestMix } from '../../loadtests/mixes.ts';
import type { ScenarioPlan } from '../../loadtests/scenarios.ts';
import type { RunLoadOptions, RunResult } from '../loadgen/engine.ts';
import { Metrics } from '../loadgen/metrics.ts';
import { runLengthMs } from '../loadgen/plan-length.ts';
import { summaryData } from './k6-summary.ts';
import { countRefusalReasons } from './refusal-reasons.ts';
import { classSubMetrics, RUN_SUB_METRICS, runFacts, type ProviderCounts, type RunFigures, type RunSummary } from './run-facts.ts';
import type { GatewayGauges } from './scrape.ts';
import { TimeSeries, type SeriesPoint } from './timeseries.ts';
import { trailingWindowMs } from './trailing-window.ts';

export interface RunRecorderOptions {
  plan: ScenarioPlan;
  /** Clock ms between time-series points. */
  tickMs: number;
  /** When the run starts, on the run's clock. */
  startedAt: number;
  /** What the run's iterations send: a mix of more than one class gets figures per class. */
  mix: RequestMix;
}

/** What the run's figures say about how it ran, beside what the recorder counted itself. */
export interface RunFactsOf {
  engine: string;
  timeScale: number;
  capacity: number;
  provider?: ProviderCounts;
}

/**
 * What a run records while it goes and what it hands over at its end, the same for a load
 * test and a simulation so their outputs compare field by field: the engine's metrics
 * (made here, so the time series and the refusal counts listen from the first sample), the
 * sub-metrics every run keeps, a time series on a trailing window sized to the run, and
 * the summary (k6's shape plus `ratelab`'s figures).
 */
export class RunRecorder {
  readonly metrics = new Metrics();
  readonly series: TimeSeries;
  readonly tickMs: number;
  readonly windowMs: number;
  private readonly plan: ScenarioPlan;
  private readonly mix: RequestMix;
  private readonly refusalsByReason: () => Record<string, number>;

  constructor(o: RunRecorderOptions) {
    this.plan = o.plan;
    this.mix = o.mix;
    this.tickMs = o.tickMs;
    this.windowMs = trailingWindowMs(runLengthMs(o.plan.options), o.tickMs);
    this.series = new TimeSeries(this.metrics, o.startedAt, this.windowMs);
    this.refusalsByReason = countRefusalReasons(this.metrics);
  }

  /** The engine options the recorder needs: its metrics, the run's sub-metrics, and the offered load. */
  engineOptions(): Pick<RunLoadOptions, 'metrics' | 'subMetrics' | 'onOffered'> {
    const perClass = this.mix.classes.length > 1 ? this.mix.classes.flatMap((c) => classSubMetrics(c.name)) : [];
    return { metrics: this.metrics, subMetrics: [...RUN_SUB_METRICS, ...perClass], onOffered: (started) => this.series.offered(started) };
  }

  /** A time-series point now: busy VUs and, for a run through a gateway, its last scraped gauges. */
  sample(now: number, vus: number, gauges?: GatewayGauges): void {
    this.series.sample(now, vus, gauges);
  }

  get points(): SeriesPoint[] {
    return this.series.points;
  }

  /** ratelab's figures of the finished run (`summary.ratelab`), before a caller adds its own. */
  figures(run: RunResult, o: RunFactsOf): RunFigures {
    return runFacts(run, { plan: this.plan, mix: this.mix, ...o, refusalsByReason: this.refusalsByReason() });
  }

  /** The summary: k6's handleSummary shape with the figures. */
  summary(run: RunResult, figures: RunFigures): RunSummary {
    return { ...summaryData(run), ratelab: figures };
  }
}
