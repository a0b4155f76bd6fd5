import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratelabRules } from '../alerts/rules.ts';
import { checkExpression, exportedSeries } from '../test/support/promql-refs.ts';
import { DASHBOARDS, dashboardJson } from './index.ts';

interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr?: string; refId?: string; exemplar?: boolean }[];
}

const json = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'json', `${name}.json`), 'utf8')) as { uid: string; schemaVersion: number; panels: PanelJson[]; templating: { list: { type: string; name: string; query: string }[] } };

describe('dashboards', () => {
  it('shows exemplars on the latency panels of the histograms that carry trace ids, and only there', () => {
    const targets = Object.keys(DASHBOARDS).flatMap((name) => json(name).panels.flatMap((p) => p.targets ?? []));
    const withExemplars = targets.filter((t) => t.exemplar);
    expect(withExemplars.map((t) => /ratelab_gateway_(request_duration|time_to_first_image)_seconds_bucket/.exec(t.expr!)?.[1])).toEqual(['request_duration', 'time_to_first_image']);
  });

  for (const [name, build] of Object.entries(DASHBOARDS)) {
    describe(name, () => {
      it('committed JSON is what the TypeScript generates (run `npm run dashboards`)', () => {
        expect(readFileSync(join(import.meta.dirname, 'json', `${name}.json`), 'utf8')).toBe(dashboardJson(build));
      });

      it('is structurally sound: unique ids, 24-column grid, datasource variable, an expression per target', () => {
        const d = json(name);
        expect(d.uid).toBe(name);
        expect(d.schemaVersion).toBeGreaterThanOrEqual(39); // classic JSON model: Grafana 10+ imports it
        const ids = d.panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const variable = d.templating.list.find((v) => v.type === 'datasource');
        expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
        for (const p of d.panels) {
          expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
          expect(p.gridPos.w).toBeGreaterThan(0);
          if (p.type === 'row') continue;
          expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(p.targets?.length, p.title).toBeGreaterThan(0);
          for (const t of p.targets!) expect(t.expr?.trim().length, p.title).toBeGreaterThan(0);
        }
        // Panels do not overlap.
        const cells = new Set<string>();
        for (const p of d.panels) for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect(cells.has(key), `${p.title} overlaps at ${key}`).toBe(false);
          cells.add(key);
        }
      });
    });
  }
});

describe('queries name only what the code exports', () => {
  const series = exportedSeries();
  const recorded = new Set(ratelabRules(1).groups.flatMap((g) => g.rules).flatMap((r) => ('record' in r ? [r.record] : [])));

  it('every dashboard query uses exported metrics with the labels it selects and groups by', () => {
    const problems = Object.keys(DASHBOARDS).flatMap((name) => json(name).panels.flatMap((p) => (p.targets ?? []).flatMap((t) => checkExpression(t.expr!, series, recorded).map((m) => `${name} / ${p.title}: ${m}`))));
    expect(problems).toEqual([]);
  });

  it('every rule expression uses exported metrics and defined recording rules', () => {
    const problems = ratelabRules(1).groups.flatMap((g) => g.rules.flatMap((r) => checkExpression(r.expr, series, recorded).map((m) => `${'alert' in r ? r.alert : r.record}: ${m}`)));
    expect(problems).toEqual([]);
  });

  it('would catch a drifted name or label', () => {
    expect(checkExpression('sum(rate(ratelab_gateway_responses_totl[5m]))', series, recorded)).toEqual(['ratelab_gateway_responses_totl: no such metric is exported']);
    expect(checkExpression('sum(rate(ratelab_gateway_responses_total{code="429"}[5m]))', series, recorded)).toEqual(['ratelab_gateway_responses_total{code}: the metric has no label code']);
    expect(checkExpression('sum by (tier) (ratelab_limiter_in_flight)', series, recorded)[0]).toContain('by (tier)');
    expect(checkExpression('max(k6_http_req_duration_p95)', series, recorded)).toEqual([]);
    expect(checkExpression('max(k6_http_req_duration_p42)', series, recorded)).toEqual(['k6_http_req_duration_p42: no such metric is exported']);
  });
});
