import type { RunSummary } from '../report/run-facts.ts';

/** The slowest class of a run: its P95 (successful requests, production ms) and name, and the slowest P95 to a first image. */
export interface WorstClass {
  p95: number;
  cls: string;
  firstImage: number;
}

/**
 * What a P95 target is held against: every class of a mix must meet it, so the slowest one;
 * a one-class run (no per-class figures) is its own slowest class.
 */
export function worstClass(summary: RunSummary): WorstClass {
  const classes = summary.ratelab.classes;
  if (classes?.length) {
    let p95 = 0;
    let cls = '';
    let firstImage = 0;
    for (const c of classes) {
      if ((c.p95Ms ?? 0) > p95) [p95, cls] = [c.p95Ms ?? 0, c.class];
      firstImage = Math.max(firstImage, c.firstImageP95Ms ?? 0);
    }
    return { p95, cls, firstImage };
  }
  const m = summary.metrics;
  return { p95: m['http_req_duration{status:200}']?.values['p(95)'] ?? 0, cls: summary.ratelab.mix, firstImage: m.ratelab_time_to_first_image?.values['p(95)'] ?? 0 };
}
