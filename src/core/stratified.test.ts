import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';
import { StratifiedUniform } from './stratified.ts';

describe('StratifiedUniform', () => {
  it('puts exactly one draw in every stratum of a block, in a shuffled order', () => {
    const u = new StratifiedUniform(createRng(1), 100);
    const block = Array.from({ length: 100 }, () => u.next());
    const strata = block.map((x) => Math.floor(x * 100)).sort((a, b) => a - b);
    expect(strata).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const inOrder = block.every((x, i) => i === 0 || x > block[i - 1]!);
    expect(inOrder).toBe(false);
  });

  it('is reproducible per seed', () => {
    const a = new StratifiedUniform(createRng(4));
    const b = new StratifiedUniform(createRng(4));
    const xs = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(xs);
  });
});
