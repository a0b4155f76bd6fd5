import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE } from './defaults.ts';

export interface Query {
  expr: string;
  legend: string;
  /** Show the histogram's exemplars (trace ids) as points that link to the trace. */
  exemplar?: boolean;
}

export const q = (expr: string, legend: string): Query => ({ expr, legend });

/** A quantile of a histogram whose buckets carry trace-id exemplars (the gateway's, with tracing on): Grafana draws them, each a link to its trace. */
export const qWithExemplars = (expr: string, legend: string): Query => ({ expr, legend, exemplar: true });

/** Panel ids must be unique per dashboard: each dashboard numbers its own. */
export class PanelIds {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

function targets<T extends { withTarget(t: DataqueryBuilder): T }>(panel: T, queries: Query[]): T {
  queries.forEach((query, i) => {
    const target = new DataqueryBuilder().expr(query.expr).legendFormat(query.legend).refId(String.fromCharCode(65 + i));
    panel.withTarget(query.exemplar ? target.exemplar(true) : target);
  });
  return panel;
}

/** A time series panel of one or more queries, with a unit and an optional min. */
export function timeseries(ids: PanelIds, title: string, description: string, unit: string, queries: Query[], opts: { min?: number; max?: number; width?: number } = {}): Builder<Panel> {
  const panel = new TimeseriesPanel().id(ids.take()).title(title).description(description).datasource(DATASOURCE).unit(unit).lineWidth(2).fillOpacity(10).height(8).span(opts.width ?? 12);
  if (opts.min !== undefined) panel.min(opts.min);
  if (opts.max !== undefined) panel.max(opts.max);
  return targets(panel, queries);
}

/** A time series with threshold lines drawn (e.g. the 10 % / 30 % 429 alert levels). */
export function withThresholdLines(ids: PanelIds, title: string, description: string, unit: string, queries: Query[], lines: { value: number; color: string }[]): Builder<Panel> {
  const panel = new TimeseriesPanel()
    .id(ids.take())
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .lineWidth(2)
    .height(8)
    .span(12)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'green' }, ...lines]))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  return targets(panel, queries);
}

/** A single-value panel with colour steps. */
export function stat(ids: PanelIds, title: string, description: string, unit: string, queries: Query[], steps: { value: number | null; color: string }[]): Builder<Panel> {
  const panel = new StatPanel()
    .id(ids.take())
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .height(4)
    .span(6)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
  return targets(panel, queries);
}
