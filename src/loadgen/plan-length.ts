import type { LoadOptions } from '../../loadtests/scenarios.ts';
import { toMs } from '../core/duration.ts';

/** How long a run of these options lasts (the longest scenario's startTime + stages/duration), without grace periods. */
export function runLengthMs(options: LoadOptions): number {
  const ms = (v: string | undefined) => (v ? toMs(v) : 0);
  let longest = 0;
  for (const s of Object.values(options.scenarios)) {
    const body = 'duration' in s ? ms(s.duration) : 'stages' in s ? s.stages.reduce((a, st) => a + ms(st.duration), 0) : 0;
    longest = Math.max(longest, ms(s.startTime) + body);
  }
  return longest;
}
