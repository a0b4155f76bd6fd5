import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/virtual-clock.ts';
import { SPAN_ATTRS, SPAN_NAMES } from '../metrics/spans.ts';
import { settle } from '../../test/support/mock-client.ts';
import { createLimiter } from './limiter.ts';
import { fakeUpstream, limit429, ok } from './test-support/fake-upstream.ts';

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  return { tracer, spans: () => exporter.getFinishedSpans() };
}

const childrenOf = (spans: readonly ReadableSpan[], parent: Span) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId).sort((a, b) => a.startTime[0] * 1e9 + a.startTime[1] - (b.startTime[0] * 1e9 + b.startTime[1]));
const ms = (t: readonly [number, number]) => t[0] * 1000 + t[1] / 1e6;

describe('limiter spans', () => {
  it('gives each task a queue span and an attempt span per attempt, under the span it was scheduled in, on the limiter clock', async () => {
    const clock = new VirtualClock(1_000_000);
    const { tracer, spans } = tracing();
    const limiter = createLimiter({ concurrency: { mode: 'fixed', limit: 1 }, retry: { maxAttempts: 3, baseDelay: '1s' } }, { clock, tracer, name: 'acct-a' });
    const seenInside: (string | undefined)[] = [];
    const up = fakeUpstream(clock, (call, ctx) => {
      seenInside.push(ctx.traceContext && trace.getSpan(ctx.traceContext)?.spanContext().spanId);
      return call === 0 ? limit429(2_000) : ok({}, { 'x-ratelimit-remaining-requests': '41', 'x-ratelimit-remaining-tokens': '9000' });
    }, 1_000);
    const a = tracer.startSpan('request a');
    const b = tracer.startSpan('request b');
    const pa = limiter.execute(up.task, { priority: 'high', traceContext: trace.setSpan(ROOT_CONTEXT, a) });
    const pb = limiter.execute(up.task, { traceContext: trace.setSpan(ROOT_CONTEXT, b) });
    const [ea, eb] = await settle(clock, Promise.all([pa, pb]));
    a.end();
    b.end();
    expect(ea).toMatchObject({ attempts: 2, lastKind: 'ok' });
    expect(eb).toMatchObject({ attempts: 1, lastKind: 'ok' });

    const ofA = childrenOf(spans(), a);
    expect(ofA.map((s) => s.name)).toEqual([SPAN_NAMES.queue, SPAN_NAMES.attempt, SPAN_NAMES.queue, SPAN_NAMES.attempt]);
    const [queue, first, retryWait, second] = ofA as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    expect(queue.attributes).toMatchObject({ [SPAN_ATTRS.priority]: 1, [SPAN_ATTRS.waitReason]: 'none', [SPAN_ATTRS.retry]: false, [SPAN_ATTRS.upstream]: 'acct-a' });
    expect(first.attributes).toMatchObject({ [SPAN_ATTRS.attempt]: 1, [SPAN_ATTRS.httpStatus]: 429, [SPAN_ATTRS.outcome]: 'limit', [SPAN_ATTRS.retryAfterMs]: 2_000, [SPAN_ATTRS.errorType]: '429' });
    expect(first.attributes[SPAN_ATTRS.resendCount]).toBeUndefined();
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(retryWait.attributes).toMatchObject({ [SPAN_ATTRS.retry]: true, [SPAN_ATTRS.waitReason]: 'backoff' });
    expect(second.attributes).toMatchObject({ [SPAN_ATTRS.attempt]: 2, [SPAN_ATTRS.resendCount]: 1, [SPAN_ATTRS.httpStatus]: 200, [SPAN_ATTRS.outcome]: 'ok', [SPAN_ATTRS.remainingRequests]: 41, [SPAN_ATTRS.remainingTokens]: 9000 });
    // On the limiter's clock: the first attempt took 1 s, the retry waited out the 2 s retry-after.
    expect(ms(first.endTime) - ms(first.startTime)).toBe(1_000);
    expect(ms(first.startTime)).toBe(1_000_000);
    expect(ms(retryWait.endTime) - ms(retryWait.startTime)).toBeGreaterThanOrEqual(2_000);
    // The task's function is handed its attempt's context: what it calls is the attempt's child.
    expect(seenInside[0]).toBe(first.spanContext().spanId);

    // B waited behind A for the one slot, and then for the account's pause: the reason it met first is kept.
    const [bQueue, bAttempt] = childrenOf(spans(), b) as [ReadableSpan, ReadableSpan];
    expect(bQueue.name).toBe(SPAN_NAMES.queue);
    expect(bQueue.attributes[SPAN_ATTRS.waitReason]).toBe('concurrency');
    expect(ms(bQueue.endTime) - ms(bQueue.startTime)).toBeGreaterThanOrEqual(1_000);
    expect(bAttempt.attributes[SPAN_ATTRS.httpStatus]).toBe(200);
    expect(seenInside.at(-1)).toBe(bAttempt.spanContext().spanId);
  });

  it('ends a shed task’s queue span with the reason, as an error', async () => {
    const clock = new VirtualClock(0);
    const { tracer, spans } = tracing();
    const limiter = createLimiter({ concurrency: { mode: 'fixed', limit: 1 }, queue: { maxWait: '5s' } }, { clock, tracer });
    const up = fakeUpstream(clock, () => ok(), 60_000);
    const parent = tracer.startSpan('request');
    const traceContext = trace.setSpan(ROOT_CONTEXT, parent);
    const both = Promise.all([limiter.execute(up.task, { traceContext }), limiter.execute(up.task, { traceContext })]);
    const [, shed] = await settle(clock, both);
    expect(shed.fulfilled).toBe(false);
    const queues = childrenOf(spans(), parent).filter((s) => s.name === SPAN_NAMES.queue);
    const refused = queues.find((s) => s.attributes[SPAN_ATTRS.shedReason]);
    expect(refused?.attributes).toMatchObject({ [SPAN_ATTRS.shedReason]: 'deadline_exceeded', [SPAN_ATTRS.waitReason]: 'concurrency' });
    expect(refused?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'deadline_exceeded' });
    expect(refused?.events.map((e) => e.name)).toEqual(['ratelab.limiter.shed']);
  });

  it('makes no span outside a recording span, nor without a tracer', async () => {
    const clock = new VirtualClock(0);
    const { tracer, spans } = tracing();
    const up = fakeUpstream(clock, () => ok(), 10);
    const traced = createLimiter({}, { clock, tracer });
    await settle(clock, traced.execute(up.task));
    const plain = createLimiter({}, { clock });
    const parent = tracer.startSpan('request');
    await settle(clock, plain.execute(up.task, { traceContext: trace.setSpan(ROOT_CONTEXT, parent) }));
    expect(spans()).toEqual([]);
  });

  it('for an application with its own context manager, goes under the active span and runs the task inside its attempt', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const clock = new VirtualClock(0);
      const { tracer, spans } = tracing();
      const limiter = createLimiter({}, { clock, tracer });
      let active: string | undefined;
      const up = fakeUpstream(clock, () => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        return ok();
      }, 10);
      const request = tracer.startSpan('request');
      await settle(clock, context.with(trace.setSpan(ROOT_CONTEXT, request), () => limiter.execute(up.task)));
      const attempt = spans().find((s) => s.name === SPAN_NAMES.attempt)!;
      expect(attempt.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(active).toBe(attempt.spanContext().spanId);
    } finally {
      context.disable();
    }
  });
});
