import { describe, expect, it } from 'vitest';
import { classifyAnswer, errorOf } from '../../loadtests/lib/answers.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import { recordAnswer } from '../loadgen/image-iteration.ts';
import { defineMetrics } from '../loadgen/engine.ts';
import { Metrics } from '../loadgen/metrics.ts';
import { countRefusalReasons } from './refusal-reasons.ts';

const refusalBody = (code: string) => JSON.stringify({ error: { message: 'refused', type: 'ratelab_gateway_error', param: null, code } });

describe('refusals by reason', () => {
  it('reads a refusal reason from the error code, and none from a provider 429 or a body that is not JSON', () => {
    expect(classifyAnswer({ status: 429, ...errorOf(refusalBody('queue_full')), upstreamStatus: undefined })).toMatchObject({ refusal: true, provider429: false, reason: 'queue_full' });
    const provider = JSON.stringify({ error: { message: 'Rate limit', type: 'requests', code: 'rate_limit_exceeded' } });
    expect(classifyAnswer({ status: 429, ...errorOf(provider), upstreamStatus: 429 })).toMatchObject({ refusal: false, provider429: true, reason: undefined });
    expect(errorOf('<html>busy</html>')).toEqual({ errorType: undefined, errorCode: undefined });
  });

  it('counts each refusal the engine records under its reason, most frequent first', () => {
    const metrics = new Metrics();
    defineMetrics(metrics);
    const counts = countRefusalReasons(metrics);
    const ctx = { vu: 1, iteration: 0, iterationInTest: 0, scenario: 'peak', scheduledAt: 0, signal: new AbortController().signal };
    const answer = (status: number, text: string) => recordAnswer(metrics, ctx, { status, text, headers: {}, sentAt: 0, firstByteAt: 1, doneAt: 2, class: 'gen-low', bytesSent: 10 });
    answer(429, refusalBody('deadline_unmeetable'));
    answer(503, refusalBody('circuit_open'));
    answer(429, refusalBody('deadline_unmeetable'));
    answer(200, '{"data":[{}]}');
    answer(429, JSON.stringify({ error: { message: 'Rate limit', type: 'requests', code: 'rate_limit_exceeded' } }));
    expect(counts()).toEqual({ deadline_unmeetable: 2, circuit_open: 1 });
    expect(Object.keys(counts())).toEqual(['deadline_unmeetable', 'circuit_open']);
    expect(metrics.get(M.refusals.name)!.passes).toBe(3);
  });
});
