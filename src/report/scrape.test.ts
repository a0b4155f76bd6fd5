import { describe, expect, it } from 'vitest';
import { maxOf, sumOf } from './scrape.ts';

describe('sumOf', () => {
  it('sums a metric over its label sets and ignores longer names and comments', () => {
    const text = [
      '# HELP ratelab_limiter_queue_depth Tasks waiting',
      '# TYPE ratelab_limiter_queue_depth gauge',
      'ratelab_limiter_queue_depth{upstream="a",priority="high"} 3',
      'ratelab_limiter_queue_depth{upstream="b",priority="normal"} 4',
      'ratelab_limiter_queue_depth_total 100',
      'ratelab_limiter_in_flight 7',
    ].join('\n');
    expect(sumOf(text, 'ratelab_limiter_queue_depth')).toBe(7);
    expect(sumOf(text, 'ratelab_limiter_in_flight')).toBe(7);
    expect(sumOf(text, 'ratelab_missing')).toBeUndefined();
    expect(maxOf(text, 'ratelab_limiter_queue_depth')).toBe(4);
    expect(maxOf(text, 'ratelab_missing')).toBeUndefined();
  });
});
