/**
 * k6's execution segments, so one test split across N engines (k6 processes, k6-operator
 * pods, or ratelab's embedded engine) runs the same iterations in total as one engine.
 * Grammar and arithmetic follow k6 (lib/execution_segment.go): a segment is `from:to` (or
 * `to`, meaning `0:to`) in fractions, decimals or percentages; a sequence is the points
 * `0,1/3,2/3,1`; iteration i of a scenario belongs to the segment its striped slot names.
 * Written here because no npm package has it, and the engine must match k6 exactly.
 */

/** A non-negative rational number in lowest terms. */
interface Ratio {
  n: number;
  d: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const ratio = (n: number, d: number): Ratio => {
  const g = gcd(n, d) || 1;
  return { n: n / g, d: d / g };
};
const sub = (a: Ratio, b: Ratio): Ratio => ratio(a.n * b.d - b.n * a.d, a.d * b.d);
const cmp = (a: Ratio, b: Ratio): number => a.n * b.d - b.n * a.d;
const text = (r: Ratio): string => (r.d === 1 ? String(r.n) : `${r.n}/${r.d}`);

/** `1/3`, `0.25`, `25%`: k6's three spellings of a point in [0, 1]. */
function parsePoint(s: string, what: string): Ratio {
  const t = s.trim();
  let r: Ratio | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(\d+)%$/.exec(t))) r = ratio(Number(m[1]), 100);
  else if ((m = /^(\d+)\/(\d+)$/.exec(t)) && Number(m[2]) > 0) r = ratio(Number(m[1]), Number(m[2]));
  else if ((m = /^(\d+)(?:\.(\d+))?$/.exec(t))) {
    const decimals = m[2] ?? '';
    r = ratio(Number(`${m[1]}${decimals}`), 10 ** decimals.length);
  }
  if (!r || r.n > r.d) throw new RangeError(`Expected ${what} to be a fraction, decimal or percentage between 0 and 1 (1/3, 0.5, 50%), got \`${s}\` (string)`);
  return r;
}

export interface ExecutionSegment {
  from: Ratio;
  to: Ratio;
}

/** `from:to`, or `to` alone for `0:to`, as k6's `--execution-segment`. */
export function parseSegment(s: string): ExecutionSegment {
  const [a, b] = s.includes(':') ? s.split(':', 2) : ['0', s];
  const from = parsePoint(a!, '`--execution-segment`');
  const to = parsePoint(b!, '`--execution-segment`');
  if (cmp(from, to) >= 0) throw new RangeError(`Expected \`--execution-segment\` to start before it ends (from:to, like 0:1/2), got \`${s}\` (string)`);
  return { from, to };
}

/** `0,1/3,2/3,1`, as k6's `--execution-segment-sequence`: at least two points, increasing. */
export function parseSequence(s: string): ExecutionSegment[] {
  const points = s.split(',').map((p) => parsePoint(p, '`--execution-segment-sequence`'));
  if (points.length < 2) throw new RangeError(`Expected \`--execution-segment-sequence\` to have at least two points (like 0,1/2,1), got \`${s}\` (string)`);
  const segments: ExecutionSegment[] = [];
  for (let i = 1; i < points.length; i++) {
    if (cmp(points[i - 1]!, points[i]!) >= 0) throw new RangeError(`Expected \`--execution-segment-sequence\` to increase (like 0,1/2,1), got \`${s}\` (string)`);
    segments.push({ from: points[i - 1]!, to: points[i]! });
  }
  return segments;
}

export const segmentText = (s: ExecutionSegment): string => `${text(s.from)}:${text(s.to)}`;

/**
 * One engine's share of a test: which iterations of each scenario are its own, and how
 * many of a scenario's VUs (or iterations) it gets. Without a segment, everything.
 */
export class ExecutionTuple {
  /** Striped slots: slot j of every `lcd` iterations belongs to segment `owner[j]` of the sequence. */
  private readonly owner: number[];
  private readonly counts: number[];
  private readonly index: number;
  readonly lcd: number;

  constructor(
    readonly segment: ExecutionSegment | undefined,
    sequence: ExecutionSegment[] | undefined,
  ) {
    const filled = fill(sequence, segment);
    this.index = segment ? filled.findIndex((s) => cmp(s.from, segment.from) === 0 && cmp(s.to, segment.to) === 0) : 0;
    if (this.index < 0) throw new RangeError(`Expected \`--execution-segment\` \`${segmentText(segment!)}\` to be one of \`--execution-segment-sequence\`'s segments (${filled.map(segmentText).join(', ')}), got it outside them`);
    const lengths = filled.map((s) => sub(s.to, s.from));
    this.lcd = lengths.reduce((acc, l) => (acc / gcd(acc, l.d)) * l.d, 1);
    const slots = lengths.map((l) => (l.n * this.lcd) / l.d);
    // Biggest segments choose first (stable): they are the ones that would otherwise get neighbouring slots.
    const order = slots.map((_, i) => i).sort((a, b) => slots[b]! - slots[a]! || a - b);
    const chosen = new Array<number>(filled.length).fill(0);
    this.owner = [];
    for (let slot = 0; slot < this.lcd; slot++) {
      // A segment with k slots in lcd takes the next slot once it is at least k·(taken)/lcd of the way: evenly spaced.
      const next = order.find((i) => slot * slots[i]! >= chosen[i]! * this.lcd)!;
      chosen[next]!++;
      this.owner.push(next);
    }
    this.counts = slots;
  }

  /** Whether iteration `i` (0-based, counted over the whole test) is this engine's. */
  owns(i: number): boolean {
    return this.owner[i % this.lcd] === this.index;
  }

  /** This engine's share of `value` VUs or iterations: as many of the first `value` indices as it owns. */
  scale(value: number): number {
    if (!this.segment) return value;
    const whole = Math.floor(value / this.lcd) * this.counts[this.index]!;
    let rest = 0;
    for (let j = 0; j < value % this.lcd; j++) if (this.owner[j] === this.index) rest++;
    return whole + rest;
  }

  /** The segment for people and for k6's flags. */
  get label(): string {
    return this.segment ? segmentText(this.segment) : '0:1';
  }
}

/** k6's filled sequence: the given one (or the segment alone) with the gaps to 0 and to 1 added. */
function fill(sequence: ExecutionSegment[] | undefined, segment: ExecutionSegment | undefined): ExecutionSegment[] {
  const zero = ratio(0, 1);
  const one = ratio(1, 1);
  const list = sequence && sequence.length > 0 ? [...sequence] : segment ? [segment] : [{ from: zero, to: one }];
  if (cmp(list[0]!.from, zero) > 0) list.unshift({ from: zero, to: list[0]!.from });
  if (cmp(list.at(-1)!.to, one) < 0) list.push({ from: list.at(-1)!.to, to: one });
  return list;
}

/** The segments of a test split evenly across `n` engines, and the sequence they share. */
export function evenSplit(n: number): { segments: string[]; sequence: string } {
  const points = Array.from({ length: n + 1 }, (_, i) => text(ratio(i, n)));
  return { segments: points.slice(1).map((p, i) => `${points[i]}:${p}`), sequence: points.join(',') };
}
