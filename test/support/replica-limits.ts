import { expect } from 'vitest';
import { startMockServer } from '../../mock-server/http-server.ts';
import { DEV_CLIENT_KEY } from '../../src/gateway/clients.ts';
import { GatewayProcess } from './gateway-process.ts';

/**
 * Two gateway processes on one REDIS_URL in front of a tier-2 account (20 images a minute,
 * a minute lasting 2.4 s at scale 0.04), offered twice its rate for two minutes, alternating
 * between them. Every request must get its image (queued, not lost), the provider must
 * refuse none, and it must see no more than a full bucket plus the refill. Returns the
 * replicas' output for further checks.
 */
export async function expectReplicasWithinLimits(redisUrl: string, config: string, seed: number): Promise<string[]> {
  const scale = 0.04;
  const ipm = 20;
  const minuteMs = 60_000 * scale;
  const tier2 = await startMockServer({ profile: 'openai', timeScale: scale, seed });
  const env = { REDIS_URL: redisUrl, UPSTREAM_API_KEY: 'sk-tier2-replicas', TIME_SCALE: String(scale) };
  const replicas = await Promise.all([0, 1].map(() => GatewayProcess.start(['--upstream', tier2.baseURL, '--config', config], env)));
  try {
    const offered = 4 * ipm;
    const started = Date.now();
    const answers: Promise<number>[] = [];
    for (let i = 0; i < offered; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + (i * (2 * minuteMs)) / offered - Date.now())));
      const body = JSON.stringify({ prompt: `replica ${i}`, quality: 'low' });
      answers.push(fetch(`${replicas[i % 2]!.baseURL}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${DEV_CLIENT_KEY}`, 'content-type': 'application/json' }, body }).then((r) => r.status));
    }
    const statuses = await Promise.all(answers);
    const span = Date.now() - started;
    const stats = (await (await fetch(`${tier2.url}/__admin/stats`)).json()) as { total: number; limitRejections: Record<string, number> };
    expect(statuses.filter((s) => s === 200).length).toBe(offered);
    expect(Object.values(stats.limitRejections).reduce((a, b) => a + b, 0)).toBe(0);
    // The provider's bucket: a full burst plus the refill over the run.
    expect(stats.total).toBeLessThanOrEqual(ipm + (ipm * span) / minuteMs);
    return replicas.map((r) => r.output);
  } finally {
    for (const r of replicas) r.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await tier2.close();
  }
}
