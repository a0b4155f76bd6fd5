import type { ServerResponse } from 'node:http';
import { TERMINAL, type JobBackend, type JobEvent } from './types.ts';

const HEARTBEAT_MS = 15_000;
/** A subscriber this far behind is not reading: drop it rather than buffer without bound. */
const MAX_BUFFERED_BYTES = 256 * 1024;

/** A job may start one attempt several times (runs the gateway turned away): the time tells them apart. */
const keyOf = (e: JobEvent): string => `${e.type}:${e.attempt ?? ''}:${e.at}`;

/**
 * Server-sent events of one job: what happened so far, then live events, ending after the
 * terminal one. Bounded: at most `max` subscribers at once, and a subscriber that stops
 * reading is disconnected.
 */
export class JobEventStreams {
  private open = 0;
  private readonly enders = new Set<() => void>();

  constructor(private readonly max: number) {}

  get subscribers(): number {
    return this.open;
  }

  /** Ends every stream (shutdown): clients reconnect to another gateway and get the history again. */
  closeAll(): void {
    for (const end of [...this.enders]) end();
  }

  /** False when full: the caller answers 503. */
  async stream(res: ServerResponse, backend: JobBackend, id: string): Promise<boolean> {
    if (this.open >= this.max) return false;
    this.open++;
    const live: JobEvent[] = [];
    // An event can reach both the history (the job's log) and the live feed: each is sent once.
    const seen = new Set<string>();
    let ready = false;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.open--;
      this.enders.delete(end);
      unsubscribe();
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
    };
    const send = (event: JobEvent): void => {
      if (ended) return;
      const key = keyOf(event);
      if (seen.has(key)) return;
      seen.add(key);
      if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      if (TERMINAL.has(event.type)) end();
    };
    // Subscribe before reading the history, so nothing falls between the two.
    const unsubscribe = backend.subscribe(id, (event) => (ready ? send(event) : live.push(event)));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS).unref();
    res.on('close', end);
    this.enders.add(end);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    try {
      const history = await backend.history(id);
      for (const event of history) send(event);
      for (const event of live) send(event);
      ready = true;
    } catch {
      end();
    }
    return true;
  }
}
