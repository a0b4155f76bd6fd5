/** Piecewise-linear service-time multiplier by occupied slots; flat beyond the last point. */
export function slowdownFactor(points: ReadonlyArray<readonly [number, number]>, occupied: number): number {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const first = sorted[0]!;
  if (occupied <= first[0]) return first[1];
  for (let i = 1; i < sorted.length; i++) {
    const [x1, y1] = sorted[i]!;
    if (occupied <= x1) {
      const [x0, y0] = sorted[i - 1]!;
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (occupied - x0)) / (x1 - x0);
    }
  }
  return sorted[sorted.length - 1]![1];
}
