import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPAN_ATTRS, SPAN_EVENTS, SPAN_NAMES } from './spans.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('**Traces (OpenTelemetry).**'), readme.indexOf('**Point Prometheus at the stack**'));

describe('span catalogue', () => {
  it('names every span and event in the README’s span table', () => {
    expect(section.length).toBeGreaterThan(500);
    const missing = [...Object.values(SPAN_NAMES), ...Object.values(SPAN_EVENTS)].filter((n) => !section.includes(n));
    expect(missing).toEqual([]);
  });

  it('keeps ratelab’s own keys under ratelab. and the conventions’ keys as OpenTelemetry spells them', () => {
    for (const key of Object.values(SPAN_ATTRS)) expect(key).toMatch(/^(ratelab|gen_ai|http|url|server|error)\.[a-z_.]+$/);
    expect(SPAN_ATTRS.httpStatus).toBe('http.response.status_code');
    expect(SPAN_ATTRS.resendCount).toBe('http.request.resend_count');
  });
});
