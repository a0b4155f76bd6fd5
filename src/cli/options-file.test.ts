import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOptionsFile } from './options-file.ts';

const file = (name: string, text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'ratelab-options-')), name);
  writeFileSync(path, text);
  return path;
};

describe('k6 options files (--options)', () => {
  it('runs production-time options at the scale: durations and time units scaled, rates kept, latency thresholds scaled', () => {
    const path = file(
      'busy.yaml',
      [
        'scenarios:',
        '  morning:',
        '    executor: ramping-arrival-rate',
        '    startRate: 10',
        '    timeUnit: 1m',
        '    preAllocatedVUs: 100',
        '    stages: [{ duration: 5m, target: 60 }, { duration: 10m, target: 60 }]',
        '  batch:',
        '    executor: constant-vus',
        '    vus: 4',
        '    duration: 10m',
        '    startTime: 5m',
        'thresholds:',
        "  'http_req_duration{status:200}': ['p(95)<60000', { threshold: 'p(99)<120000', abortOnFail: true, delayAbortEval: 2m }]",
        "  ratelab_provider_429: 'rate<0.01'",
      ].join('\n'),
    );
    const { options, description } = loadOptionsFile(path, 0.1);
    expect(description).toBe(`k6 options from ${path}: 2 scenarios (morning, batch)`);
    expect(options.scenarios.morning).toEqual({ executor: 'ramping-arrival-rate', startRate: 10, timeUnit: '6000ms', preAllocatedVUs: 100, stages: [{ duration: '30000ms', target: 60 }, { duration: '60000ms', target: 60 }] });
    expect(options.scenarios.batch).toEqual({ executor: 'constant-vus', vus: 4, duration: '60000ms', startTime: '30000ms' });
    expect(options.thresholds).toEqual({
      'http_req_duration{status:200}': ['p(95)<6000', { threshold: 'p(99)<12000', abortOnFail: true, delayAbortEval: '12000ms' }],
      ratelab_provider_429: ['rate<0.01'],
    });
  });

  it("turns k6's shortcuts into its `default` scenario", () => {
    expect(loadOptionsFile(file('o.json', '{"vus": 3, "duration": "2m"}'), 1).options.scenarios).toEqual({ default: { executor: 'constant-vus', vus: 3, duration: '120000ms' } });
    expect(loadOptionsFile(file('o.json', '{"stages": [{"duration": "1m", "target": 5}]}'), 0.5).options.scenarios).toEqual({ default: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '30000ms', target: 5 }] } });
  });

  it('refuses a bad file naming the field, the expectation and the value', () => {
    const refusal = (text: string) => {
      try {
        loadOptionsFile(file('bad.json', text), 1);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('{"scenarios": {"a": {"executor": "constant-arrival-rate", "rate": 0, "duration": "1m", "preAllocatedVUs": 1}}}')).toContain('Expected `scenarios.a.rate` to be an integer >= 1, got `0` (number)');
    expect(refusal('{"scenarios": {"a": {"executor": "constant-arival-rate"}}}')).toContain('Expected `scenarios.a.executor` to be one of "constant-arrival-rate"');
    expect(refusal('{"scenarios": {"a": {"executor": "constant-vus", "duration": "ten minutes"}}}')).toContain('Expected `scenarios.a.duration` to be a Go duration like "90s" or a number of milliseconds >= 0, got `ten minutes` (string)');
    expect(refusal('{"scenarios": {"a": {"executor": "constant-vus", "duration": "1m", "vu": 3}}}')).toContain('Unknown field `vu` in scenarios.a');
    expect(refusal('{"scenarios": {"a": {"executor": "constant-vus", "duration": "1m", "exec": "other"}}}')).toContain('Expected `scenarios.a.exec` to be only "default" (the image request: ratelab runs no other function), got `other` (string)');
    expect(refusal('{"vus": 2, "duration": "1m", "scenarios": {"a": {"executor": "constant-vus", "duration": "1m"}}}')).toContain('Expected either `scenarios` or the shortcuts');
    expect(refusal('{"thresholds": {}}')).toContain('Expected `scenarios`, or `vus` with `duration`');
    expect(refusal('{"scenario": {}}')).toContain('Unknown field `scenario`');
  });
});
