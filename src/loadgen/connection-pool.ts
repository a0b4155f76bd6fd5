import { Agent, request } from 'undici';

export interface ConnectionPoolOptions {
  /** Connections to keep per origin: at least the scenario's maxVUs. */
  connections: number;
  /** Headers and body timeout in ms. */
  timeoutMs: number;
}

/** One keep-alive connection per VU (no pipelining: a VU waits for its answer, as k6's do). */
export function connectionPool(o: ConnectionPoolOptions): Agent {
  return new Agent({ connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs });
}

/**
 * Opens `count` connections to `origin` before a run, with as many GET /healthz at once (the
 * gateway's and the mock's cheapest answer, counted by neither as traffic): a cold pool
 * opens them in the run's first instants instead, when every arrival finds its VU still
 * connecting. Failures are not the warm-up's to report: the run meets them.
 */
export async function preconnect(pool: Agent, origin: string, count: number): Promise<void> {
  const url = `${origin.replace(/\/$/, '')}/healthz`;
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const res = await request(url, { dispatcher: pool });
        await res.body.dump();
      } catch {
        // The run reports an unreachable target.
      }
    }),
  );
  // The last answer's connection is marked free on a later turn: a run starting at once would open one more.
  await new Promise((resolve) => setImmediate(resolve));
}
