import { basename, dirname, resolve } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { Redactor } from './redact.ts';
import { TRACE_DEFAULTS, type TraceLine } from './trace-line.ts';

export interface TraceOptions {
  /** The file lines go to; rotated files sit beside it as `<file>.1` (newest) … `<file>.<keep>`. */
  path: string;
  /** Bytes after which the file is rotated (default 100 MiB). */
  maxBytes?: number;
  /** Rotated files kept (default 5). */
  keep?: number;
}


/**
 * Appends trace lines to a file rotated by size (rotating-file-stream, logrotate's
 * numbering). Every line passes the gateway's redactor first: a configured secret an
 * upstream echoed in an error code must not reach the file.
 */
export class TraceWriter {
  private readonly stream: RotatingFileStream;
  private failed: Error | undefined;

  constructor(
    o: TraceOptions,
    private readonly redactor: Redactor,
    onError: (error: Error) => void,
  ) {
    const file = resolve(o.path);
    const name = basename(file);
    this.stream = createStream((index: number | Date | null) => (typeof index === 'number' && index > 0 ? `${name}.${index}` : name), {
      path: dirname(file),
      size: `${o.maxBytes ?? TRACE_DEFAULTS.maxBytes}B`,
      rotate: o.keep ?? TRACE_DEFAULTS.keep,
    });
    // A trace that cannot be written must not take the gateway down: said once, then lines are dropped.
    this.stream.on('error', (error) => {
      this.failed ??= error;
      onError(error);
    });
  }

  write(line: TraceLine): void {
    if (this.failed) return;
    this.stream.write(`${this.redactor.text(JSON.stringify(line))}\n`);
  }

  close(): Promise<void> {
    if (this.failed) return Promise.resolve();
    return new Promise((done) => this.stream.end(() => done()));
  }
}
