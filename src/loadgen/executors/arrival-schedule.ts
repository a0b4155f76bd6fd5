/**
 * When each iteration of an arrival-rate scenario is due, in ms from its start. The
 * schedule is absolute: falling behind never moves later iterations.
 */

/** constant-arrival-rate: iteration i at i · timeUnit / rate, while before `duration`. */
export function* constantArrivals(rate: number, timeUnitMs: number, durationMs: number): Generator<number> {
  if (rate <= 0) return;
  const period = timeUnitMs / rate;
  for (let i = 0; i * period < durationMs; i++) yield i * period;
}

export interface RateSegment {
  startMs: number;
  durationMs: number;
  /** Iterations per ms at the segment's start and end (linear in between). */
  from: number;
  to: number;
}

/** ramping-arrival-rate's rate curve: from `startRate`, linear to each stage's target over its duration. */
export function rateSegments(startRate: number, timeUnitMs: number, stages: readonly { durationMs: number; target: number }[]): RateSegment[] {
  const segments: RateSegment[] = [];
  let at = 0;
  let from = startRate / timeUnitMs;
  for (const stage of stages) {
    const to = stage.target / timeUnitMs;
    segments.push({ startMs: at, durationMs: stage.durationMs, from, to });
    at += stage.durationMs;
    from = to;
  }
  return segments;
}

/**
 * ramping-arrival-rate: iteration i is due when the integral of the rate curve reaches i,
 * so the count over any stretch is the area under the curve there (k6's semantics).
 */
export function* rampingArrivals(segments: readonly RateSegment[]): Generator<number> {
  let done = 0; // iterations whose due time has passed, i.e. the integral at the segment start, floored to the next due index
  let area = 0; // integral of the rate at the current segment's start
  for (const seg of segments) {
    const slope = seg.durationMs > 0 ? (seg.to - seg.from) / seg.durationMs : 0;
    const segArea = ((seg.from + seg.to) / 2) * seg.durationMs;
    // Iterations with index in [done, area + segArea) fall in this segment.
    while (done < area + segArea - 1e-9) {
      const need = done - area; // area to cover inside this segment
      let t: number;
      if (need <= 0) t = 0;
      else if (Math.abs(slope) < 1e-15) t = need / seg.from;
      else t = (-seg.from + Math.sqrt(seg.from * seg.from + 2 * slope * need)) / slope;
      if (!(t >= 0) || t >= seg.durationMs) break;
      yield seg.startMs + t;
      done++;
    }
    area += segArea;
  }
}
