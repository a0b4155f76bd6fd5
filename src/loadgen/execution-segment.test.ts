import { describe, expect, it } from 'vitest';
import { evenSplit, ExecutionTuple, parseSegment, parseSequence } from './execution-segment.ts';

const tuple = (segment: string, sequence?: string) => new ExecutionTuple(parseSegment(segment), sequence === undefined ? undefined : parseSequence(sequence));
const owned = (t: ExecutionTuple, n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => t.owns(i));

describe('execution segments (k6 semantics)', () => {
  it("stripes iterations as k6's documented example: 1/2, 1/4, 1/4", () => {
    const seq = '0,1/2,3/4,1';
    expect(owned(tuple('0:1/2', seq), 12)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(owned(tuple('1/2:3/4', seq), 12)).toEqual([1, 5, 9]);
    expect(owned(tuple('3/4:1', seq), 12)).toEqual([3, 7, 11]);
  });

  it('splits every index exactly once, for uneven and even sequences', () => {
    for (const seq of ['0,1/3,2/3,1', '0,0.2,0.5,1', '0,10%,35%,100%', evenSplit(7).sequence]) {
      const tuples = parseSequence(seq).map((s) => new ExecutionTuple(s, parseSequence(seq)));
      for (let i = 0; i < 500; i++) expect(tuples.filter((t) => t.owns(i))).toHaveLength(1);
      // VUs and iterations too: the shares add up to the whole, each within 1 of its proportion.
      for (const value of [0, 1, 2, 5, 17, 100, 1001]) {
        const shares = tuples.map((t) => t.scale(value));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(value);
      }
    }
  });

  it('a segment alone is filled around to a whole sequence, as k6 does', () => {
    const half = tuple('1/2');
    expect(half.label).toBe('0:1/2');
    expect(half.scale(10)).toBe(5);
    expect(owned(half, 6)).toEqual([0, 2, 4]);
    expect(new ExecutionTuple(undefined, undefined).scale(7)).toBe(7);
  });

  it('refuses bad segments and sequences with the field, the expectation and the value', () => {
    expect(() => parseSegment('1/2:1/4')).toThrow('Expected `--execution-segment` to start before it ends (from:to, like 0:1/2), got `1/2:1/4` (string)');
    expect(() => parseSegment('0:3/2')).toThrow('Expected `--execution-segment` to be a fraction, decimal or percentage between 0 and 1 (1/3, 0.5, 50%), got `3/2` (string)');
    expect(() => parseSequence('0,1/2,1/3,1')).toThrow('Expected `--execution-segment-sequence` to increase (like 0,1/2,1), got `0,1/2,1/3,1` (string)');
    expect(() => parseSequence('1')).toThrow('at least two points');
    expect(() => tuple('0:1/3', '0,1/2,1')).toThrow('Expected `--execution-segment` `0:1/3` to be one of `--execution-segment-sequence`\'s segments (0:1/2, 1/2:1), got it outside them');
  });

  it('evenSplit names the segments k6-operator would hand its N pods', () => {
    expect(evenSplit(3)).toEqual({ segments: ['0:1/3', '1/3:2/3', '2/3:1'], sequence: '0,1/3,2/3,1' });
    expect(evenSplit(1)).toEqual({ segments: ['0:1'], sequence: '0,1' });
  });
});
