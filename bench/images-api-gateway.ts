/**
 * The gateway alone in its own process for bench/images-api.ts, so its RSS and CPU are its
 * own. Upstream from UPSTREAM; answers `rss` and `cpu` messages.
 */
import { startGateway } from '../src/gateway/gateway.ts';

const gateway = await startGateway({ upstream: process.env.UPSTREAM!, upstreamKey: 'sk-tier5-bench', timeScale: Number(process.env.TIME_SCALE ?? 1), limiter: { concurrency: { mode: 'fixed', limit: 64 } } });
process.on('message', (m) => {
  if (m === 'rss') process.send!({ rss: process.memoryUsage().rss });
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send!({ cpu: u.user + u.system });
  }
  if (m === 'close') void gateway.close(1000).then(() => process.exit(0));
});
process.send!({ url: gateway.url });
