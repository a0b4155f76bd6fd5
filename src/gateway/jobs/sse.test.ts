import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen } from '../../core/http-listen.ts';
import { JobEventStreams } from './sse.ts';
import type { JobBackend, JobEvent, JobListener } from './types.ts';

/** A backend whose history is fixed and whose live events the test pushes. */
function fakeBackend(history: JobEvent[]) {
  const listeners = new Set<JobListener>();
  const backend = {
    history: async () => history,
    subscribe: (_id: string, l: JobListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as JobBackend;
  return { backend, push: (e: JobEvent) => listeners.forEach((l) => l(e)), listeners };
}

async function serve(streams: JobEventStreams, backend: JobBackend) {
  const server = createServer((_req, res) => void streams.stream(res, backend, 'job_x').then((ok) => ok || res.writeHead(503).end()));
  return { url: await listen(server, 0, '127.0.0.1'), close: () => server.close() };
}

const types = (text: string) => text.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));

describe('JobEventStreams', () => {
  it('sends the history, then live events, each once, and ends after the terminal one', async () => {
    const { backend, push, listeners } = fakeBackend([{ type: 'queued', at: 1 }, { type: 'started', at: 2, attempt: 1 }]);
    const streams = new JobEventStreams(10);
    const { url, close } = await serve(streams, backend);
    try {
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const body = res.text();
      await new Promise((r) => setTimeout(r, 20));
      push({ type: 'started', at: 2, attempt: 1 }); // also in the history: not sent twice
      push({ type: 'deferred', at: 3, attempt: 1 });
      // The same attempt started again after a deferral: a new event, sent.
      push({ type: 'started', at: 4, attempt: 1 });
      push({ type: 'retried', at: 5, attempt: 1 });
      push({ type: 'succeeded', at: 6, attempt: 2 });
      push({ type: 'failed', at: 7, attempt: 2 }); // after the end: not sent
      expect(types(await body)).toEqual(['queued', 'started', 'deferred', 'started', 'retried', 'succeeded']);
      expect(listeners.size).toBe(0);
      expect(streams.subscribers).toBe(0);
    } finally {
      close();
    }
  });

  it('refuses subscribers beyond its bound, and closeAll ends every stream', async () => {
    const { backend } = fakeBackend([{ type: 'queued', at: 1 }]);
    const streams = new JobEventStreams(1);
    const { url, close } = await serve(streams, backend);
    try {
      const first = await fetch(url);
      expect(first.status).toBe(200);
      const body = first.text();
      expect((await fetch(url)).status).toBe(503);
      streams.closeAll();
      expect(types(await body)).toEqual(['queued']);
      expect(streams.subscribers).toBe(0);
    } finally {
      close();
    }
  });
});
