import type { Rng } from '../../src/core/rng.ts';
import type { Fault } from '../profiles/schema.ts';

export interface ScheduledFault {
  id: string;
  source: 'timeline' | 'admin';
  fault: Fault;
  startsAt: number;
  endsAt: number | undefined;
}

/** What the faults in force do to one request; decided once, when it arrives. */
export interface FaultDecision {
  outage?: number;
  error?: number;
  reset: boolean;
  stallMs?: number;
  latencyFactor: number;
  /** Blocked by moderation, at this stage. */
  moderation?: 'input' | 'output';
}

const NO_FAULT: FaultDecision = { reset: false, latencyFactor: 1 };

/**
 * Faults from the profile's timeline (times from the run's start) and from the admin API
 * (times from injection). All durations are clock ms. Random faults draw from their own
 * stream, and only while one is in force, so a fault-free run draws nothing.
 */
export class Faults {
  private readonly scheduled: ScheduledFault[] = [];
  private nextId = 1;

  constructor(
    timeline: readonly Fault[],
    startedAt: number,
    private readonly rng: Rng,
  ) {
    for (const fault of timeline) this.add(fault, startedAt, 'timeline');
  }

  inject(fault: Fault, now: number): ScheduledFault {
    this.prune(now);
    return this.add(fault, now, 'admin');
  }

  /** Removes admin faults (and the timeline's too with `includeTimeline`); returns how many were not over yet. */
  clear(now: number, includeTimeline = false): number {
    this.prune(now);
    const before = this.scheduled.length;
    for (let i = this.scheduled.length - 1; i >= 0; i--) {
      if (includeTimeline || this.scheduled[i]!.source === 'admin') this.scheduled.splice(i, 1);
    }
    return before - this.scheduled.length;
  }

  remove(id: string): boolean {
    const index = this.scheduled.findIndex((f) => f.id === id);
    if (index >= 0) this.scheduled.splice(index, 1);
    return index >= 0;
  }

  /** Faults not yet over. */
  list(now: number): ScheduledFault[] {
    this.prune(now);
    return [...this.scheduled];
  }

  private prune(now: number): void {
    for (let i = this.scheduled.length - 1; i >= 0; i--) {
      const { endsAt } = this.scheduled[i]!;
      if (endsAt !== undefined && endsAt <= now) this.scheduled.splice(i, 1);
    }
  }

  decide(now: number): FaultDecision {
    if (this.scheduled.length === 0) return NO_FAULT;
    const decision: FaultDecision = { reset: false, latencyFactor: 1 };
    for (const { fault, startsAt, endsAt } of this.scheduled) {
      if (now < startsAt || (endsAt !== undefined && now >= endsAt)) continue;
      switch (fault.kind) {
        case 'outage':
          decision.outage ??= fault.status;
          break;
        case 'error':
          if (this.rng.next() < fault.rate) decision.error ??= fault.status;
          break;
        case 'latency':
          decision.latencyFactor *= fault.factor;
          break;
        case 'reset':
          if (this.rng.next() < fault.rate) decision.reset = true;
          break;
        case 'stall':
          if (this.rng.next() < fault.rate) decision.stallMs ??= fault.stallFor;
          break;
        case 'moderation':
          if (this.rng.next() < fault.rate) decision.moderation ??= fault.stage;
          break;
      }
    }
    return decision;
  }

  private add(fault: Fault, origin: number, source: ScheduledFault['source']): ScheduledFault {
    const startsAt = origin + fault.at;
    const scheduled: ScheduledFault = {
      id: `fault-${this.nextId++}`,
      source,
      fault,
      startsAt,
      endsAt: fault.duration === undefined ? undefined : startsAt + fault.duration,
    };
    this.scheduled.push(scheduled);
    return scheduled;
  }
}
