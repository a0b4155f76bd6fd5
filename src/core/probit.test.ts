import { describe, expect, it } from 'vitest';
import { probit } from './probit.ts';

describe('probit', () => {
  it.each([
    [0.5, 0],
    [0.95, 1.6448536269514722],
    [0.99, 2.3263478740408408],
    [0.999, 3.090232306167813],
    [0.01, -2.3263478740408408],
    [0.001, -3.090232306167813],
  ])('probit(%d) = %d', (p, z) => {
    expect(probit(p)).toBeCloseTo(z, 6);
  });

  it('is infinite at the ends', () => {
    expect(probit(0)).toBe(-Infinity);
    expect(probit(1)).toBe(Infinity);
  });
});
