import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.ts';
import { parseLimiterConfig } from './config.ts';

const make = (c: object = {}) => new CircuitBreaker(parseLimiterConfig({ circuit: { window: 10, minimumRequests: 4, failureRate: 0.5, openFor: 1000, halfOpenProbes: 2, ...c } }).circuit);

describe('CircuitBreaker', () => {
  it('opens at the failure rate, waits, probes, and closes when probes succeed', () => {
    const cb = make();
    cb.record(true, 0);
    cb.record(false, 0);
    cb.record(true, 0);
    expect(cb.stateAt(0)).toBe('closed');
    cb.record(false, 0);
    expect(cb.stateAt(0)).toBe('open');
    expect(cb.allow(999)).toBe(false);
    expect(cb.stateAt(1000)).toBe('half-open');
    expect(cb.allow(1000)).toBe(true);
    expect(cb.allow(1000)).toBe(true);
    expect(cb.allow(1000)).toBe(false);
    cb.record(true, 1100);
    expect(cb.stateAt(1100)).toBe('half-open');
    cb.record(true, 1100);
    expect(cb.stateAt(1100)).toBe('closed');
  });

  it('gives a probe slot back when a probe ends without a verdict, and only in half-open', () => {
    const cb = make({ halfOpenProbes: 1 });
    for (let i = 0; i < 4; i++) cb.record(false, 0);
    expect(cb.allow(1000)).toBe(true);
    expect(cb.allow(1000)).toBe(false);
    cb.releaseProbe();
    expect(cb.allow(1000)).toBe(true);
    cb.record(true, 1100);
    expect(cb.stateAt(1100)).toBe('closed');
    cb.releaseProbe(); // closed: nothing to give back
    expect(cb.allow(1100)).toBe(true);
  });

  it('reopens when a probe fails', () => {
    const cb = make();
    for (let i = 0; i < 4; i++) cb.record(false, 0);
    expect(cb.allow(1000)).toBe(true);
    cb.record(false, 1000);
    expect(cb.stateAt(1000)).toBe('open');
    expect(cb.reopensAt()).toBe(2000);
  });

  it('needs the minimum volume and forgets old outcomes', () => {
    const cb = make();
    for (let i = 0; i < 3; i++) cb.record(false, 0);
    expect(cb.stateAt(0)).toBe('closed');
    const slow = make({ minimumRequests: 10 });
    for (let i = 0; i < 20; i++) slow.record(i % 3 !== 0, 0);
    expect(slow.stateAt(0)).toBe('closed');
  });

  it('counts failures against the whole window after a long run of successes', () => {
    const cb = make({ window: 20, minimumRequests: 10 });
    for (let i = 0; i < 100; i++) cb.record(true, 0);
    for (let i = 0; i < 9; i++) cb.record(false, 0);
    expect(cb.stateAt(0)).toBe('closed');
    cb.record(false, 0);
    expect(cb.stateAt(0)).toBe('open');
  });

  it('does nothing when disabled', () => {
    const cb = make({ enabled: false });
    for (let i = 0; i < 10; i++) cb.record(false, 0);
    expect(cb.allow(0)).toBe(true);
  });
});

describe('contention opens the circuit (contentionOpens)', () => {
  it('opens after minimumRequests contention answers in a row, and a success in between resets the count', () => {
    const cb = make();
    for (let i = 0; i < 3; i++) expect(cb.recordContention(0)).toBe(true);
    cb.record(true, 0);
    for (let i = 0; i < 3; i++) cb.recordContention(0);
    expect(cb.stateAt(0)).toBe('closed');
    cb.recordContention(0);
    expect(cb.stateAt(0)).toBe('open');
  });

  it('reopens when a half-open probe meets contention, and closes once probes succeed', () => {
    const cb = make();
    for (let i = 0; i < 4; i++) cb.recordContention(0);
    expect(cb.stateAt(999)).toBe('open');
    expect(cb.stateAt(1000)).toBe('half-open');
    expect(cb.allow(1000)).toBe(true);
    cb.recordContention(1000);
    expect(cb.stateAt(1500)).toBe('open');
    expect(cb.allow(2000)).toBe(true);
    cb.record(true, 2000);
    cb.record(true, 2000);
    expect(cb.stateAt(2000)).toBe('closed');
  });

  it('leaves contention to backoff alone when turned off', () => {
    const cb = make({ contentionOpens: false });
    for (let i = 0; i < 50; i++) expect(cb.recordContention(0)).toBe(false);
    expect(cb.stateAt(0)).toBe('closed');
  });
});

describe('contention streaks and successes already under way', () => {
  it('a success of an attempt sent before the contention began does not end the streak; a later one does', () => {
    const cb = make();
    cb.recordContention(100);
    cb.recordContention(110);
    // A generation sent at 50, before the provider went down, finishes now.
    cb.record(true, 120, 50);
    cb.recordContention(130);
    cb.recordContention(140);
    expect(cb.stateAt(140)).toBe('open');
    const fresh = make();
    fresh.recordContention(100);
    fresh.recordContention(110);
    fresh.record(true, 120, 105);
    fresh.recordContention(130);
    fresh.recordContention(140);
    expect(fresh.stateAt(140)).toBe('closed');
  });
});
