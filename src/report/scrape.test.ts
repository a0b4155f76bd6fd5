import { describe, expect, it } from 'vitest';
import { answersOf, maxOf, sumOf } from './scrape.ts';

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

describe('answersOf', () => {
  it("counts the images route's answers: the gateway's refusals, the provider's 429s, other failures", () => {
    const text = [
      'ratelab_gateway_responses_total{route="images",status="200",source="upstream"} 40',
      'ratelab_gateway_responses_total{route="images",status="429",source="upstream"} 2',
      'ratelab_gateway_responses_total{route="images",status="429",source="gateway"} 5',
      'ratelab_gateway_responses_total{route="images",status="503",source="gateway"} 1',
      'ratelab_gateway_responses_total{route="images",status="500",source="upstream"} 3',
      'ratelab_gateway_responses_total{route="jobs",status="202",source="gateway"} 9',
    ].join('\n');
    expect(answersOf(text)).toEqual({ total: 51, refusals: 6, provider429: 2, errors: 3 });
  });
});
