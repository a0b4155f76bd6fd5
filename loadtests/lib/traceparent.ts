/**
 * A W3C `traceparent` for one load-test request, from 25 random bytes (k6's
 * `crypto.randomBytes`, Node's `randomFillSync`): a new trace per iteration, so the gateway
 * and the mock continue it and a slow request can be found by its trace id. The 25th byte
 * decides whether the trace is sampled (`ratio` of them are): a sampled flag makes a
 * parent-based sampler downstream keep the trace, an unsampled one makes it drop it.
 * No imports: k6 runs it as it is.
 */
export interface IterationTrace {
  header: string;
  traceId: string;
  sampled: boolean;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

function hex(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[bytes[i]!];
  return s;
}

export function iterationTrace(random: Uint8Array, ratio: number): IterationTrace {
  // An all-zero id is invalid in W3C trace context; at 2^-128 it is not worth a branch beyond this one.
  if (random[0] === 0) random[0] = 1;
  if (random[16] === 0) random[16] = 1;
  const traceId = hex(random, 0, 16);
  const sampled = random[24]! < ratio * 256;
  return { header: `00-${traceId}-${hex(random, 16, 24)}-${sampled ? '01' : '00'}`, traceId, sampled };
}
