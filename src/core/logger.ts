import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /** Component name on every line (`gateway`, `mock`). */
  name: string;
  /** Default LOG_LEVEL from the environment, else `info`. */
  level?: string;
  /** Applied to every line as written: removes secrets by value (a pino `redact` path cannot know where an echoed key lands). */
  scrub?: (line: string) => string;
  /** Where lines go. Default: stdout, JSON lines, or readable lines when stdout is a terminal. */
  destination?: NodeJS.WritableStream;
}

/**
 * pino, set up the one way every part logs: JSON lines (one per event), `LOG_LEVEL`,
 * errors with their stack under `err`, readable colour lines on a terminal (pino-pretty
 * as a stream in this thread: no worker to outlive the process), and every line scrubbed.
 */
export function createLogger(o: LoggerOptions): Logger {
  const destination = o.destination ?? (process.stdout.isTTY ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : process.stdout);
  return pino(
    {
      name: o.name,
      level: o.level ?? process.env.LOG_LEVEL ?? 'info',
      base: undefined,
      ...(o.scrub ? { hooks: { streamWrite: o.scrub } } : {}),
    },
    destination,
  );
}

/** A logger that writes nothing (tests, embedded use that logs elsewhere). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
