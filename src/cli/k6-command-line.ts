import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_LOADTEST_MODEL } from '../../loadtests/lib/answers.ts';
import { MIXES, type RequestMix } from '../../loadtests/mixes.ts';
import type { CustomLoad, RunnableScenario } from '../../loadtests/scenarios.ts';

/** How a k6 process is told what to run: its flags and its environment, one place for one k6 and for N. */

/** What the k6 script is told, beside the scenario: the command's own settings. */
export interface K6Settings {
  apiKey: string;
  timeScale: number;
  traceRatio: number;
  model?: string;
}

/** How the k6 script learns `custom`'s load: the options as run in a file beside the summary, or RATE or VUS for DURATION. */
function customEnv(custom: CustomLoad, outDir: string): Record<string, string> {
  if (custom.options) {
    const file = resolve(outDir, 'options.as-run.json');
    writeFileSync(file, `${JSON.stringify(custom.options, null, 2)}\n`);
    return { OPTIONS_FILE: file };
  }
  return { ...(custom.rate !== undefined ? { RATE: String(custom.rate) } : { VUS: String(custom.vus) }), DURATION: `${custom.durationMs}ms` };
}

/** How the k6 script learns the mix: a built-in by name, a file's mix as validated here in a file beside the summary. */
function mixEnv(mix: RequestMix, outDir: string): Record<string, string> {
  if (MIXES[mix.name] === mix) return { MIX: mix.name };
  const file = resolve(outDir, 'mix.as-run.json');
  writeFileSync(file, `${JSON.stringify(mix, null, 2)}\n`);
  return { MIX: file };
}

/** k6's exit code when a threshold fails. */
export const THRESHOLDS_FAILED_EXIT = 99;

/** The k6 script's environment: the target, the scale, the scenario's load and the mix, and where its summary goes. */
export function k6Env(o: K6Settings, outDir: string, custom: CustomLoad | undefined, mix: RequestMix, at: { target: string; mockUrl?: string; capacity?: number; model?: string }): Record<string, string | undefined> {
  return {
    ...process.env,
    BASE_URL: at.target,
    API_KEY: o.apiKey,
    TIME_SCALE: String(o.timeScale),
    TRACE_RATIO: String(o.traceRatio),
    MOCK_URL: at.mockUrl ?? '',
    MODEL: o.model ?? at.model ?? DEFAULT_LOADTEST_MODEL,
    SUMMARY_PATH: join(outDir, 'summary.json'),
    K6_NO_USAGE_REPORT: 'true',
    ...(at.capacity ? { CAPACITY: String(at.capacity) } : {}),
    ...(custom ? customEnv(custom, outDir) : {}),
    ...mixEnv(mix, outDir),
  };
}

/** k6's own flags for a segment and for every sample (its JSON output). */
export function k6Args(name: RunnableScenario, o: { executionSegment?: string; executionSegmentSequence?: string; samples?: string }): string[] {
  return [
    'run',
    ...(o.executionSegment ? ['--execution-segment', o.executionSegment] : []),
    ...(o.executionSegmentSequence ? ['--execution-segment-sequence', o.executionSegmentSequence] : []),
    ...(o.samples ? ['--out', `json=${o.samples}`] : []),
    resolve('loadtests', `${name}.ts`),
  ];
}

