import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * A gateway in its own process (bench/images-api-gateway.ts), so its CPU and RSS are its own:
 * in front of `upstream`, with `env` added. It traces only when `env` asks: OTEL_* variables of
 * the bench's own shell are not passed on.
 */
export function forkGateway(upstream: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = fork(join(import.meta.dirname, 'images-api-gateway.ts'), { execArgv: ['--import', 'tsx'], env: { ...inherited, UPSTREAM: upstream, ...env } });
  return new Promise((resolve) => child.once('message', (m) => resolve({ child, url: (m as { url: string }).url })));
}

/** Asks the forked gateway for `rss` or `cpu`, and waits for its answer. */
export const ask = <T>(child: ChildProcess, what: string): Promise<T> =>
  new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(what);
  });
