import { readFileSync } from 'node:fs';
import { MIX_FORMATS, MIX_QUALITIES, type RequestClass, type RequestMix } from '../../loadtests/mixes.ts';
import { arrivalVus, type ScenarioPlan, type Stage } from '../../loadtests/scenarios.ts';
import { ConfigError, formatIssue } from '../core/validation.ts';
import { TRACE_VERSION, traceLineSchema, type TraceLine } from '../gateway/trace-line.ts';
import { parseWxH } from '../openai/sizes.ts';

/** Reads a gateway trace (JSON lines), each line checked against the trace schema; a bad line is named by its number. */
export function readTrace(path: string): TraceLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read trace \`${path}\`: ${(error as Error).message}`);
  }
  const lines: TraceLine[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`Invalid trace \`${path}\` line ${i + 1}: not JSON`);
    }
    const v = (value as { v?: unknown } | null)?.v;
    if (v !== TRACE_VERSION) throw new ConfigError(`Invalid trace \`${path}\` line ${i + 1}: Expected \`v\` to be ${TRACE_VERSION} (this ratelab's trace format), got ${JSON.stringify(v)}`);
    const parsed = traceLineSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) throw new ConfigError(`Invalid trace \`${path}\` line ${i + 1}: ${parsed.error.issues.map((issue) => formatIssue(issue as Parameters<typeof formatIssue>[0])).join('; ')}`);
    lines.push(parsed.data);
  }
  if (lines.length === 0) throw new ConfigError(`Expected trace \`${path}\` to hold at least one line, got none`);
  return lines;
}

export interface ReplayOptions {
  /** "What if traffic were k×": every bin's arrivals × k, the shape and the classes kept. Default (or undefined) 1. */
  rateFactor?: number | undefined;
  /** Production ms per bin of the arrival curve. Default: 1 s, or longer so a trace has at most 2 000 bins. */
  binMs?: number;
}

export interface TraceReplay {
  /** The trace's arrivals as a k6 ramping-arrival-rate in production time (run it at any time scale). */
  plan: ScenarioPlan;
  /** The trace's request classes, weighted by how often each came, and its sequence: arrival i sends the class of the trace's i-th request. */
  mix: RequestMix;
  /** Lines replayed, and lines left out (requests the gateway could not read: no class to send). */
  replayed: number;
  skipped: number;
  /** The trace's span, production ms. */
  spanMs: number;
}

/** A class's identity: what the mock and the limiter price and time, and the priority it waits at. */
export type ClassKey = Pick<RequestClass, 'endpoint' | 'model' | 'quality' | 'size' | 'n' | 'format' | 'stream' | 'partialImages' | 'inputImages' | 'priority'>;

/** A traced request's class; undefined for one the gateway could not read (no model, quality or size). */
export function classKeyOf(line: TraceLine): ClassKey | undefined {
  if (line.model === null || line.quality === null || line.size === null || line.n === null || line.format === null) return undefined;
  // A class the mixes cannot send (a gif, an xhigh quality) is left out like an unread request.
  if (!(MIX_QUALITIES as readonly string[]).includes(line.quality) || !(MIX_FORMATS as readonly string[]).includes(line.format)) return undefined;
  const quality = line.quality as RequestClass['quality'];
  const format = line.format as RequestClass['format'];
  const first = line.inputImageSizes?.[0] ? parseWxH(line.inputImageSizes[0]) : undefined;
  const inputs = line.endpoint === 'edits' && line.inputImages ? { count: line.inputImages, width: first?.width ?? 1024, height: first?.height ?? 1024 } : undefined;
  return {
    endpoint: line.endpoint,
    model: line.model,
    quality,
    size: line.size,
    n: line.n,
    format,
    ...(line.stream ? { stream: true, partialImages: line.partialImages ?? 0 } : {}),
    ...(inputs ? { inputImages: inputs } : {}),
    // A line of a gateway before priorities were traced, or of a normal client: the default, left unsaid.
    ...(line.priority && line.priority !== 'normal' ? { priority: line.priority } : {}),
  };
}

/** A class's name: endpoint, quality, size, then what sets it apart (n, stream, references, format, a priority other than normal), then the model. */
export function classNameOf(k: ClassKey): string {
  const parts = [k.endpoint === 'edits' ? 'edit' : 'gen', k.quality, k.size];
  if (k.n > 1) parts.push(`n${k.n}`);
  if (k.stream) parts.push(`stream${k.partialImages ?? 0}`);
  if (k.inputImages) parts.push(`${k.inputImages.count}ref`);
  if (k.format !== 'png') parts.push(k.format);
  if (k.priority && k.priority !== 'normal') parts.push(`pri-${k.priority}`);
  return `${parts.join('-')}-${k.model}`;
}

const MINUTE = 60_000;
/**
 * A traced mix holds classes slower than the built-in scenarios' one shape (high-quality
 * edits with several references take minutes more): the requests of the last bins get as long
 * as the load test's own request timeout (6.5 min) before they are cut.
 */
const GRACEFUL_STOP_MS = 7 * MINUTE;
/** Rates are integers in k6: counted per ten bins, a tenth of an arrival per bin is kept. */
const PER = 10;

/**
 * A trace as load: its arrival curve (production time, binned) as a ramping-arrival-rate
 * whose every bin is a step (a 0 s stage to the bin's rate, then the bin at it), and its
 * classes line by line: the replay's i-th arrival sends the trace's i-th request's class
 * (the mix's `sequence`, read by k6, the engine and the sim alike). Arrivals are spread
 * evenly inside a bin. Which class comes when matters: a queue that builds early delays
 * the classes that came early, and a per-class P95 of a few hundred requests moves with it.
 */
export function replayOf(lines: readonly TraceLine[], o: ReplayOptions = {}): TraceReplay {
  const k = o.rateFactor ?? 1;
  if (!(k > 0)) throw new RangeError(`Expected \`--rate-factor\` to be a number > 0, got \`${k}\` (${typeof k})`);
  const classes = new Map<string, { key: ClassKey; count: number; index: number }>();
  // Each read line's production time and its class (an index in order of first appearance).
  const arrivals: { t: number; cls: number }[] = [];
  let skipped = 0;
  const t0 = Date.parse(lines[0]!.at);
  for (const line of lines) {
    const key = classKeyOf(line);
    if (!key) {
      skipped++;
      continue;
    }
    const name = classNameOf(key);
    let c = classes.get(name);
    if (c) c.count++;
    else classes.set(name, (c = { key, count: 1, index: classes.size }));
    // Each line says its gateway's scale: production time is as-run time ÷ it.
    arrivals.push({ t: (Date.parse(line.at) - t0) / line.timeScale, cls: c.index });
  }
  if (arrivals.length === 0) throw new ConfigError(`Expected a trace with at least one request the gateway read (with a model, quality and size), got ${lines.length} without`);
  // Lines are written as answers end: arrival order is by time (a stable sort keeps equal times in the file's order).
  arrivals.sort((a, b) => a.t - b.t);
  const start = arrivals[0]!.t;
  const spanMs = arrivals.at(-1)!.t - start;
  const binMs = o.binMs ?? Math.max(1000, Math.ceil(spanMs / 2000 / 1000) * 1000);
  const bins = new Array<number>(Math.floor(spanMs / binMs) + 1).fill(0);
  for (const a of arrivals) bins[Math.floor((a.t - start) / binMs)]!++;
  const stages: Stage[] = [];
  for (const count of bins) {
    const target = Math.round(count * k * PER);
    stages.push({ duration: '0ms', target }, { duration: `${binMs}ms`, target });
  }
  const peakPerMinute = (Math.max(...bins) * k * MINUTE) / binMs;
  const vus = arrivalVus(peakPerMinute);
  // Classes most frequent first; the sequence names them by that order.
  const ordered = [...classes.entries()].sort((a, b) => b[1].count - a[1].count);
  const rank = new Array<number>(ordered.length);
  ordered.forEach(([, c], i) => (rank[c.index] = i));
  // Arrival j of the replay sends the class of line ⌊j ÷ k⌋: at ×2 each line's class twice, in the trace's order.
  const sequence = Array.from({ length: Math.round(arrivals.length * k) }, (_, j) => rank[arrivals[Math.min(arrivals.length - 1, Math.floor(j / k))]!.cls]!);
  const mix: RequestMix = {
    name: 'trace',
    description: `the trace's ${classes.size} request classes in its order`,
    classes: ordered.map(([name, c]) => ({ name, weight: c.count, ...c.key })),
    sequence,
  };
  const minutes = (spanMs / MINUTE).toFixed(1);
  return {
    plan: {
      name: 'custom',
      description: `replay of ${arrivals.length} traced requests over ${minutes} min${k === 1 ? '' : ` at ×${k}`}`,
      options: {
        scenarios: { replay: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: `${binMs * PER}ms`, stages, ...vus, gracefulStop: `${GRACEFUL_STOP_MS}ms`, tags: { scenario_kind: 'replay' } } },
        thresholds: { ratelab_provider_429: ['rate<0.01'], 'checks{check:an image or a clear error}': ['rate>0.99'] },
      },
    },
    mix,
    replayed: arrivals.length,
    skipped,
    spanMs,
  };
}
