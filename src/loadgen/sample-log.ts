import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import type { MetricType, Metrics, Tags } from './metrics.ts';

/**
 * Every metric sample of a run, one JSON object per line in k6's JSON output format
 * (`k6 run --out json=file`): a `Metric` line the first time a metric is seen, then a
 * `Point` line per sample with its time, value and tags. Gzipped when the file ends in
 * `.gz`, as k6 does. This is what makes a test split across engines mergeable exactly:
 * percentiles come from every sample, not from each engine's summary.
 */

interface MetricLine {
  type: 'Metric';
  metric: string;
  data: { name: string; type: MetricType; contains: 'time' | 'data' | 'default' };
}

interface PointLine {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> | null };
}

/** Writes a run's samples as they come, in k6's JSON output format. */
export class SampleWriter {
  private readonly file: WriteStream;
  private readonly out: Gzip | WriteStream;
  private readonly announced = new Set<string>();
  private failed: Error | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    metrics: Metrics,
    private readonly now: () => number,
  ) {
    this.file = createWriteStream(path);
    this.file.on('error', (e) => (this.failed = e));
    if (path.endsWith('.gz')) {
      const gzip = createGzip();
      gzip.pipe(this.file);
      this.out = gzip;
    } else {
      this.out = this.file;
    }
    metrics.listen((name, value, tags) => {
      if (!this.announced.has(name)) {
        this.announced.add(name);
        const m = metrics.get(name);
        if (m) this.line({ type: 'Metric', metric: name, data: { name, type: m.type, contains: m.contains } });
      }
      this.point(name, value, tags);
    });
  }

  /** A sample now; called with one that is not the run's metrics' (k6's busy-VU gauge at the start), it is written, not counted. */
  point(metric: string, value: number, tags?: Tags): void {
    this.line({ type: 'Point', metric, data: { time: new Date(this.now()).toISOString(), value, tags: tags ?? null } });
  }

  private line(l: MetricLine | PointLine): void {
    if (this.closed) return;
    // Past a full buffer the stream keeps what it is given: a run's samples are bounded, and dropping one would make the merge inexact.
    this.out.write(`${JSON.stringify(l)}\n`);
  }

  /** Flushes and closes the file (once); rejects if writing it failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.file.once('close', () => resolve());
      this.out.end();
    });
    if (this.failed) throw this.failed;
  }
}

/** One sample as read back. */
export interface Sample {
  metric: string;
  /** Epoch ms. */
  time: number;
  value: number;
  tags: Tags | undefined;
}

export interface SampleFile {
  /** Each metric's type and contents, from its `Metric` line. */
  metrics: Map<string, { type: MetricType; contains: 'time' | 'data' | 'default' }>;
  samples: Sample[];
}

/**
 * Reads a k6 JSON output file (ours or k6's own; gzipped when it ends in `.gz`). A line that
 * does not parse is refused with its file and line number: a merge that skipped samples
 * would not be exact.
 */
export async function readSamples(path: string): Promise<SampleFile> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const metrics: SampleFile['metrics'] = new Map();
  const samples: Sample[] = [];
  let n = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (text.trim() === '') continue;
    let line: MetricLine | PointLine;
    try {
      line = JSON.parse(text) as MetricLine | PointLine;
    } catch {
      throw new RangeError(`Expected ${path} line ${n} to be one JSON object of k6's JSON output, got \`${text.slice(0, 80)}\``);
    }
    if (line.type === 'Metric') metrics.set(line.metric, { type: line.data.type, contains: line.data.contains ?? 'default' });
    else if (line.type === 'Point') {
      const time = Date.parse(line.data.time);
      if (!Number.isFinite(time) || typeof line.data.value !== 'number') throw new RangeError(`Expected ${path} line ${n} to be a k6 Point with a time and a numeric value, got \`${text.slice(0, 80)}\``);
      samples.push({ metric: line.metric, time, value: line.data.value, tags: line.data.tags ?? undefined });
    }
  }
  return { metrics, samples };
}
