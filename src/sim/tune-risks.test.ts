import { describe, expect, it } from 'vitest';
import { humanDuration } from '../core/duration.ts';
import { recommendationRisks } from './tune-risks.ts';
import type { Scored } from './tune.ts';

const scored = (config: Scored['config'], figures: Partial<Scored['figures']> = {}): Scored => ({
  name: 'x',
  config,
  feasible: true,
  figures: { images: 700, goodput: 46, p95: 30_000, worst: { p95: 30_000, cls: 'single' }, provider429Rate: 0, refusalRate: 0, lost: 0, ...figures },
});

describe('recommendationRisks', () => {
  it('warns of no headroom, a P95 past a minute, a whole-minute burst and refusals', () => {
    const risks = recommendationRisks(scored({ budgets: { safety: 1 } }, { p95: 284_000, refusalRate: 0.06 }), 50);
    expect(risks).toHaveLength(4);
    expect(risks[0]).toMatch(/^budgets\.safety 1: no headroom/);
    expect(risks[1]).toMatch(/^P95 4m44s: one request in twenty waits over a minute/);
    expect(risks[2]).toMatch(/^IPM burst the whole limit:.*per second/);
    expect(risks[3]).toMatch(/^6\.0 % of requests are refused/);
  });

  it('says nothing of a recommendation with headroom, a short P95 and a spread burst', () => {
    expect(recommendationRisks(scored({ budgets: { safety: 0.9, ipm: { limit: 50, burst: 4.5 } } }), 50)).toEqual([]);
  });
});

describe('humanDuration', () => {
  it('prints durations as people write them', () => {
    expect(humanDuration(360_000)).toBe('6m');
    expect(humanDuration(90_000)).toBe('1m30s');
    expect(humanDuration(284_230)).toBe('4m44.2s');
    expect(humanDuration(7_200_000)).toBe('2h');
  });
});
