import { formatGoDuration } from '../src/core/duration.ts';
import { catalogueOf } from './profiles/index.ts';
import { outputTokens } from '../src/openai/tokens.ts';
import { referenceTokens } from './model/latency-request.ts';
import type { Profile } from './profiles/schema.ts';

const d = (ms: number): string => formatGoDuration(Math.round(ms));

function background(p: Profile['pool']['background']): string {
  switch (p.kind) {
    case 'none':
      return 'no background load';
    case 'constant':
      return `background ${Math.round(p.utilization * 100)}%`;
    case 'diurnal':
      return `background diurnal ${Math.round(p.mean * 100)}% ±${Math.round(p.amplitude * 100)}% every ${d(p.period)}`;
    case 'spiky':
      return `background ${Math.round(p.base * 100)}%, spikes to ${Math.round(p.peak * 100)}% for ${d(p.duration)} every ${d(p.every)}`;
  }
}

/** One screen that says what this mock will do, in profile (unscaled) time. */
export function profileSummary(profile: Profile, opts: { url: string; timeScale: number; seed: number }): string {
  const { latency, pool, limits } = profile;
  const catalogue = catalogueOf(profile);
  const refModel = catalogue.factsFor(latency.reference.model ?? profile.defaultModel);
  const ref = `${refModel.id} ${latency.reference.quality} ${latency.reference.size}`;
  const refTokens = referenceTokens(profile, catalogue);
  const scale = (q: 'low' | 'high'): number =>
    latency.fixedShare + (1 - latency.fixedShare) * (outputTokens(refModel.tokens, q, { width: 1024, height: 1024 }) / refTokens);
  const served = profile.serve === 'all' ? catalogue.ids() : profile.serve;
  const active = served.filter((id) => catalogue.get(id)?.status.state === 'active');
  const retired = served.filter((id) => catalogue.get(id)?.status.state === 'retired');
  const tierTable = limits.tiers ?? catalogue.factsFor(profile.defaultModel).tiers.table;
  const tiers = Object.entries(tierTable)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([tier, l]) => {
      if (!l) return `            tier ${tier}  no access (403)`;
      const parts = (['rpm', 'ipm', 'tpm'] as const).filter((k) => l[k] !== undefined).map((k) => `${k.toUpperCase()} ${l[k]}`);
      return `            tier ${tier}  ${parts.join('  ')}`;
    });
  const slowdown = pool.slowdown
    .filter(([, f]) => f !== 1)
    .map(([at, f]) => `×${f}@${at}`)
    .join(' ');
  const faults = profile.faults.length === 0 ? 'none scheduled' : profile.faults.map((f) => `${f.kind} at ${d(f.at)}${f.duration ? ` for ${d(f.duration)}` : ''}`).join(', ');
  const scaled = opts.timeScale === 1 ? 'real time' : `time scale ${opts.timeScale}: every duration ×${opts.timeScale}, headers in real time`;
  return [
    `ratelab mock  ${opts.url}/v1   profile ${profile.name}, seed ${opts.seed}`,
    `  models    ${active.join(', ')} (default ${profile.defaultModel})${retired.length ? `; shut down: ${retired.join(', ')}` : ''}`,
    `  time      ${scaled}`,
    `  latency   ${ref}: P50 ${d(latency.p50)}  P95 ${d(latency.p95)}  P99 ${d(latency.p99)}  (P50 low ${d(latency.p50 * scale('low'))}, high ${d(latency.p50 * scale('high'))})`,
    `  GPU pool  ${pool.slots} slots, queue ${pool.queue}${pool.queueTimeout ? ` (timeout ${d(pool.queueTimeout)})` : ''}, ${background(pool.background)}${slowdown ? `, slowdown ${slowdown}` : ''}; full → ${pool.contention.status}`,
    `  limits    token buckets refilled over ${d(limits.window)}, ${limits.bucket === 'shared' ? 'one bucket for every model' : 'one bucket per model family'}${limits.tiers ? '' : ` (tiers of ${profile.defaultModel}; each model its own table)`}; *-requests headers report ${limits.requestsHeader.toUpperCase()}; retry-after: ${limits.retryAfter}`,
    ...tiers,
    `  keys      sk-tier<N>-<anything> → tier N; sk-unverified-<anything> → 403 (org not verified)`,
    `  faults    ${faults}`,
    `  admin     GET /__admin/stats, POST|DELETE /__admin/faults, POST /__admin/tier (loopback only); /metrics`,
  ].join('\n');
}
