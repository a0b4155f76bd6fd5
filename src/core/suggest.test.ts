import { describe, expect, it } from 'vitest';
import { suggest, suggestionText } from './suggest.ts';

describe('suggest', () => {
  const metrics = ['http_req_duration', 'http_req_failed', 'checks', 'ratelab_provider_429'];
  it('names the candidate a typo meant, and nothing for a word far from all', () => {
    expect(suggest('http_req_duraton', metrics)).toBe('http_req_duration');
    expect(suggest('chekcs', metrics)).toBe('checks');
    expect(suggest('latency', metrics)).toBeUndefined();
    expect(suggest('x', [])).toBeUndefined();
  });
  it('says "did you mean" when close, and lists the candidates when not', () => {
    expect(suggestionText('http_req_faild', metrics, 'metrics')).toBe(' Did you mean `http_req_failed`?');
    expect(suggestionText('latency', metrics, 'metrics')).toBe(` Known metrics: ${metrics.join(', ')}.`);
  });
});
