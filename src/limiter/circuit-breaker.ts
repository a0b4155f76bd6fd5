import type { LimiterConfig } from './config.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Closed → open when `failureRate` of the last `window` outcomes failed (with at least
 * `minimumRequests`); open → half-open after `openFor`; half-open lets `halfOpenProbes`
 * calls through: all succeed → closed, any fails → open again; a probe that says nothing
 * about the upstream's health (400, limit or contention 429/503, cancel) frees its slot for
 * another. Server errors, timeouts and resets count as failures. Contention (429 without
 * a limit code, 503 "engine overloaded") has its own handling — backoff, a smaller
 * concurrency — but a provider that answers nothing else is down: with `contentionOpens`,
 * `minimumRequests` contention answers in a row with no success between them open the
 * circuit, and a contention answer to a half-open probe opens it again.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  /** The last `window` outcomes, as a ring (true = failure). */
  private readonly ring: boolean[];
  private filled = 0;
  private cursor = 0;
  private failures = 0;
  private openedAt = 0;
  private probesOut = 0;
  private probesOk = 0;
  /** Contention answers since the last success of an attempt sent after the first of them. */
  private contentionStreak = 0;
  private contentionSince = 0;

  constructor(private readonly config: LimiterConfig['circuit']) {
    this.ring = new Array<boolean>(config.window).fill(false);
  }

  /** Fast path for the dispatch loop: closed needs no clock. */
  get closed(): boolean {
    return this.state === 'closed' || !this.config.enabled;
  }

  stateAt(now: number): CircuitState {
    if (this.state === 'open' && now - this.openedAt >= this.config.openFor) {
      this.state = 'half-open';
      this.probesOut = 0;
      this.probesOk = 0;
    }
    return this.state;
  }

  /** When an open circuit will let probes through. */
  reopensAt(): number {
    return this.openedAt + this.config.openFor;
  }

  /** May a call start now? In half-open, each allowed call is a probe. */
  allow(now: number): boolean {
    if (!this.config.enabled) return true;
    const state = this.stateAt(now);
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.probesOut >= this.config.halfOpenProbes) return false;
    this.probesOut++;
    return true;
  }

  /**
   * A probe ended without a verdict on the upstream's health (a 400, a limit or contention
   * 429/503, a cancel): its slot goes to the next probe. Without this, such probes would hold
   * half-open's slots for good and no call would pass again.
   */
  releaseProbe(): void {
    if (this.state === 'half-open' && this.probesOut > 0) this.probesOut--;
  }

  /**
   * A contention answer. Returns whether it was a verdict (it counted toward opening, or
   * reopened a half-open circuit); a probe that ends in contention otherwise hands its slot
   * on, as before.
   */
  recordContention(now: number): boolean {
    if (!this.config.enabled || !this.config.contentionOpens) return false;
    const state = this.stateAt(now);
    if (state === 'half-open') {
      this.open(now);
      return true;
    }
    if (state === 'open') return true;
    if (this.contentionStreak++ === 0) this.contentionSince = now;
    if (this.contentionStreak >= this.config.minimumRequests) this.open(now);
    return true;
  }

  /**
   * `startedAt`: when the attempt was sent. A success of an attempt sent before contention
   * began (a generation already under way when the provider went down) says nothing about
   * the provider now, so only later ones end a contention streak.
   */
  record(success: boolean, now: number, startedAt = now): void {
    if (!this.config.enabled) return;
    if (success && this.contentionStreak > 0 && startedAt >= this.contentionSince) this.contentionStreak = 0;
    if (success && this.failures === 0 && this.state === 'closed') {
      // An all-clear window stays all clear: only its fill level moves (the hot path).
      if (this.filled < this.ring.length) this.filled++;
      return;
    }
    const state = this.stateAt(now);
    if (state === 'half-open') {
      if (!success) return this.open(now);
      if (++this.probesOk >= this.config.halfOpenProbes) this.close();
      return;
    }
    if (state === 'open') return;
    if (this.filled === this.ring.length) {
      if (this.ring[this.cursor]) this.failures--;
    } else {
      this.filled++;
    }
    this.ring[this.cursor] = !success;
    this.cursor = (this.cursor + 1) % this.ring.length;
    if (!success) this.failures++;
    if (this.filled >= this.config.minimumRequests && this.failures / this.filled >= this.config.failureRate) this.open(now);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
  }

  private close(): void {
    this.state = 'closed';
    this.contentionStreak = 0;
    this.ring.fill(false);
    this.filled = 0;
    this.cursor = 0;
    this.failures = 0;
  }
}
