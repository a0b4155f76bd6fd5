import type { Context } from '@opentelemetry/api';
import type { TimerHandle } from '../core/clock.ts';
import { parseWxH, sizeLabel } from '../openai/sizes.ts';
import type { FailureKind } from './classify.ts';
import type { Cost, ImageCostInput } from './cost.ts';
import type { QueueEntry } from './priority-queue.ts';
import type { TaskSpans } from './task-spans.ts';
import { PRIORITIES, type AttemptContext, type Execution, type PriorityName, type ScheduleOptions } from './types.ts';

/**
 * A scheduled task. It is also the context its task receives (`AttemptContext`): one object
 * per task rather than one per attempt, since allocation is most of a task's cost here.
 */
export class Task implements QueueEntry, AttemptContext {
  index = -1;
  deadline: number;
  /** Deadline set by default (now + maxWait): such deadlines arrive in order. */
  defaultDeadline: boolean;
  /** Made when the task first starts: a queued task carries no attempt state. */
  run: Attempts | undefined = undefined;
  /** What few tasks need (a caller signal, an attempt signal, reported usage), made on demand. */
  extra: TaskExtra | undefined;

  constructor(
    readonly priority: number,
    readonly seq: number,
    readonly fn: (ctx: AttemptContext) => Promise<unknown>,
    readonly cost: Cost,
    readonly price: number,
    /** The images request the cost came from, if any: its quality × size is the latency class. */
    readonly costInput: ImageCostInput | undefined,
    deadline: number,
    maxWaitDeadline: number,
    readonly scheduledAt: number,
    callerSignal: AbortSignal | undefined,
    /** `schedule`: the value (or, with `reject`, the error). `execute`: an Execution. */
    readonly resolve: (v: unknown) => void,
    readonly reject: ((e: unknown) => void) | undefined,
  ) {
    this.defaultDeadline = deadline === Infinity;
    this.deadline = this.defaultDeadline ? maxWaitDeadline : deadline;
    this.extra = callerSignal ? { callerSignal, onAbort: undefined, controller: undefined, reported: undefined } : undefined;
  }

  get callerSignal(): AbortSignal | undefined {
    return this.extra?.callerSignal;
  }

  get controller(): AbortController | undefined {
    return this.extra?.controller;
  }

  get reported(): Usage | undefined {
    return this.extra?.reported;
  }

  get extras(): TaskExtra {
    return (this.extra ??= { callerSignal: undefined, onAbort: undefined, controller: undefined, reported: undefined });
  }

  get attempt(): number {
    return this.run?.attempts ?? 0;
  }

  /** Made on first read: most tasks never read it, and an AbortController per attempt cost a tenth of the run. */
  get signal(): AbortSignal {
    const extra = this.extras;
    if (!extra.controller) {
      extra.controller = new AbortController();
      if (extra.callerSignal?.aborted) extra.controller.abort(extra.callerSignal.reason);
    }
    return extra.controller.signal;
  }

  get traceContext(): Context | undefined {
    return this.extra?.spans?.attemptContext;
  }

  reportUsage(usage: Usage): void {
    this.extras.reported = usage;
  }

  /** The attempt ran out of time: abort its signal (made now if the task has not read it yet). */
  timeOut(ms: number): void {
    const extra = this.extras;
    extra.timedOut = new DOMException(`The attempt timed out after ${ms} ms (retry.attemptTimeout)`, 'TimeoutError');
    extra.controller ??= new AbortController();
    extra.controller.abort(extra.timedOut);
  }

  /** Ends the task with its last attempt's outcome (it has run at least once). */
  settle(): void {
    const run = this.run!;
    // A fetch Response is the caller's to read even when it failed; a thrown error is rethrown.
    const delivered = run.lastKind === 'ok' || !run.lastThrown;
    if (this.reject) {
      if (delivered) this.resolve(run.last);
      else this.reject(run.last);
      return;
    }
    const execution: Execution<unknown> = {
      fulfilled: delivered,
      ok: delivered,
      value: run.lastThrown ? undefined : run.last,
      error: run.lastThrown ? run.last : undefined,
      attempts: run.attempts,
      queueMs: run.firstStartAt - this.scheduledAt,
      lastStatus: run.lastStatus,
      lastKind: run.lastKind,
    };
    this.resolve(execution);
  }

  /** Ends the task without a value: shed by the limiter, or cancelled (`error` says which). */
  settleShed(error: unknown, now: number): void {
    if (this.reject) return this.reject(error);
    const run = this.run;
    const execution: Execution<unknown> = {
      fulfilled: false,
      ok: false,
      error,
      attempts: run?.attempts ?? 0,
      queueMs: (run ? run.firstStartAt : now) - this.scheduledAt,
      lastStatus: run?.lastStatus,
      lastKind: run?.lastKind,
    };
    this.resolve(execution);
  }

  /** A new attempt starts with a fresh signal and no usage reported. */
  resetAttempt(): void {
    if (this.extra) {
      this.extra.controller = undefined;
      this.extra.reported = undefined;
      this.extra.timedOut = undefined;
    }
  }
}

export type Usage = { input_tokens?: number; output_tokens?: number };

/**
 * A task's attempts so far. Kept apart from the Task because 100k queued tasks would
 * otherwise each carry six fields they do not use yet: live bytes per queued task are
 * what garbage collection (about half the CPU at 100k queued) pays for.
 */
export class Attempts {
  attempts = 0;
  /** The last attempt's value, or its error when `lastThrown`. */
  last: unknown = undefined;
  lastThrown = false;
  lastStatus: number | undefined = undefined;
  lastKind: FailureKind | undefined = undefined;

  constructor(readonly firstStartAt: number) {}
}

interface TaskExtra {
  callerSignal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  controller: AbortController | undefined;
  reported: Usage | undefined;
  /** The running attempt's `retry.attemptTimeout` timer, and the error it aborted the attempt with. */
  timeout?: TimerHandle;
  timedOut?: DOMException;
  /** The task's spans, when it was scheduled under a recording span and the limiter has a tracer. */
  spans?: TaskSpans;
}

/**
 * A latency class per quality × size, free-form sizes folded into megapixel classes so
 * the adaptive limit keeps a bounded number of trackers.
 */
export function requestClassOf(input: ImageCostInput | undefined): string {
  if (!input) return 'default';
  const dims = input.size ? parseWxH(input.size) : undefined;
  return `${input.quality ?? 'auto'}/${dims ? sizeLabel(dims.width, dims.height) : (input.size ?? 'auto')}`;
}

export const isCost = (c: Cost | ImageCostInput): c is Cost => typeof (c as Cost).rpm === 'number' && typeof (c as Cost).tpm === 'number';

export function priorityOf(p: ScheduleOptions['priority']): number {
  if (p === undefined) return PRIORITIES.normal;
  if (typeof p === 'string' && p in PRIORITIES) return PRIORITIES[p as PriorityName];
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 9) return p;
  throw new TypeError(`Expected \`priority\` to be one of critical, high, normal, low or an integer 0–9, got \`${String(p)}\` (${typeof p})`);
}
