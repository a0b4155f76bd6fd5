import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';

const draw = (seed: number, count: number): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng.next());
};

describe('createRng', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
    expect(draw(42, 100)).not.toEqual(draw(43, 100));
  });

  it('draws uniforms in [0, 1) with the right mean and spread', () => {
    const xs = draw(7, 100_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const below = xs.filter((x) => x < 0.1).length / xs.length;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(below).toBeCloseTo(0.1, 2);
  });

  it('draws standard normals', () => {
    const rng = createRng(3);
    const zs = Array.from({ length: 100_000 }, () => rng.normal());
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(variance).toBeCloseTo(1, 1);
    expect(zs.filter((z) => z > 1.6449).length / zs.length).toBeCloseTo(0.05, 2);
  });

  it('forks independent, reproducible streams by name', () => {
    const a = createRng(1).fork('latency');
    const b = createRng(1).fork('latency');
    const c = createRng(1).fork('faults');
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA);
  });

  it('draws integers below n', () => {
    const rng = createRng(9);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.int(3)]!++;
    for (const count of counts) expect(count / 30_000).toBeCloseTo(1 / 3, 1);
  });
});
