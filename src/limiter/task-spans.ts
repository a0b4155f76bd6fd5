import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { SPAN_ATTRS, SPAN_EVENTS, SPAN_NAMES } from '../metrics/spans.ts';
import type { FailureKind } from './classify.ts';
import { headerNumber } from './header-sync.ts';
import type { HeaderSource } from './outcome.ts';

/** Why the head of the queue could not start: what the store, the circuit or a retry said. */
export type WaitReason = 'budget' | 'concurrency' | 'pause' | 'priority' | 'circuit' | 'backoff' | 'queue';

/** The store's name for a reason, in the words a trace reader knows. */
export const waitReasonOf = (reason: 'budget' | 'concurrency' | 'cooldown' | 'priority'): WaitReason => (reason === 'cooldown' ? 'pause' : reason);

export interface AttemptEnd {
  status: number | undefined;
  kind: FailureKind;
  retryAfterMs: number | undefined;
  headers: HeaderSource | undefined;
}

/**
 * One task's spans, under the context that was active when it was scheduled (the caller's
 * request): a queue span for each wait (at entry, and before each retry) and a CLIENT span for
 * each attempt, inside whose context the task's function runs, so an HTTP call it makes
 * carries the attempt's `traceparent`. Times are the limiter's clock (epoch ms on the real
 * clock; a virtual clock's own time in tests and the simulator).
 */
export class TaskSpans {
  private queue: Span | undefined;
  private attemptSpan: Span | undefined;
  /** The running attempt's context (its span under the task's parent): what the task passes on. */
  attemptContext: Context | undefined;
  private reason: WaitReason | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly parent: Context,
    private readonly upstream: string,
    private readonly priority: number,
    now: number,
  ) {
    this.openQueue(now, false);
  }

  private openQueue(now: number, retry: boolean): void {
    this.reason = retry ? 'backoff' : undefined;
    this.queue = this.tracer.startSpan(SPAN_NAMES.queue, { kind: SpanKind.INTERNAL, startTime: now, attributes: { [SPAN_ATTRS.priority]: this.priority, [SPAN_ATTRS.upstream]: this.upstream, [SPAN_ATTRS.retry]: retry } }, this.parent);
  }

  /** The task, at the head of the queue, could not start: the first reason it met is kept (budget, concurrency, pause…). */
  waited(reason: WaitReason): void {
    if (this.reason === undefined || this.reason === 'backoff') this.reason = reason;
  }

  /** Leaves the queue for attempt `n`; `behind` is the reason the queue was last held up, for a task that waited only behind others. */
  started(n: number, now: number, queuedMs: number, behind: WaitReason | undefined): void {
    const q = this.queue;
    if (q) {
      q.setAttribute(SPAN_ATTRS.waitReason, this.reason ?? (queuedMs > 0 ? (behind ?? 'queue') : 'none'));
      q.end(now);
      this.queue = undefined;
    }
    this.attemptSpan = this.tracer.startSpan(
      SPAN_NAMES.attempt,
      { kind: SpanKind.CLIENT, startTime: now, attributes: { [SPAN_ATTRS.upstream]: this.upstream, [SPAN_ATTRS.attempt]: n, ...(n > 1 ? { [SPAN_ATTRS.resendCount]: n - 1 } : {}) } },
      this.parent,
    );
    this.attemptContext = trace.setSpan(this.parent, this.attemptSpan);
  }

  /** Runs the attempt's function inside its span's context (which only an installed context manager carries into it). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.attemptContext ? context.with(this.attemptContext, fn) : fn();
  }

  attemptEnded(end: AttemptEnd, now: number): void {
    const span = this.attemptSpan;
    if (!span) return;
    this.attemptSpan = undefined;
    this.attemptContext = undefined;
    if (end.status !== undefined) span.setAttribute(SPAN_ATTRS.httpStatus, end.status);
    span.setAttribute(SPAN_ATTRS.outcome, end.kind);
    if (end.retryAfterMs !== undefined) span.setAttribute(SPAN_ATTRS.retryAfterMs, end.retryAfterMs);
    const requests = headerNumber(end.headers?.get('x-ratelimit-remaining-requests'));
    const tokens = headerNumber(end.headers?.get('x-ratelimit-remaining-tokens'));
    if (requests !== undefined) span.setAttribute(SPAN_ATTRS.remainingRequests, requests);
    if (tokens !== undefined) span.setAttribute(SPAN_ATTRS.remainingTokens, tokens);
    if (end.kind !== 'ok') {
      // Semantic conventions: error.type is the status code when there is one, else a low-cardinality kind.
      span.setAttribute(SPAN_ATTRS.errorType, end.status !== undefined ? String(end.status) : end.kind);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(now);
  }

  /** A retry waits (backoff or retry-after) and queues again: a new queue span. */
  retrying(now: number): void {
    this.openQueue(now, true);
  }

  /** The task ends; a wait still open ends with it (shed: with the reason). */
  ended(now: number, behind: WaitReason | undefined, shed?: string): void {
    const q = this.queue;
    if (q) {
      q.setAttribute(SPAN_ATTRS.waitReason, this.reason ?? behind ?? 'queue');
      if (shed) {
        q.addEvent(SPAN_EVENTS.shed, { [SPAN_ATTRS.shedReason]: shed }, now);
        q.setAttribute(SPAN_ATTRS.shedReason, shed);
        q.setStatus({ code: SpanStatusCode.ERROR, message: shed });
      }
      q.end(now);
      this.queue = undefined;
    }
    this.attemptSpan?.end(now);
    this.attemptSpan = undefined;
  }
}

/** Starts a task's spans under `parent` (default the active context), or none when it holds no recording span (tracing off, or not sampled). */
export function taskSpans(tracer: Tracer, upstream: string, priority: number, now: number, parent: Context = context.active()): TaskSpans | undefined {
  if (!trace.getSpan(parent)?.isRecording()) return undefined;
  return new TaskSpans(tracer, parent, upstream, priority, now);
}
