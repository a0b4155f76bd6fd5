import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesYaml } from '../alerts/rules.ts';
import { DASHBOARDS } from '../dashboards/index.ts';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { runLoadtest, type LoadtestOutcome } from '../src/cli/loadtest-run.ts';
import { listen } from '../src/core/http-listen.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import { freePort } from './support/free-port.ts';

/**
 * The live check: a real Prometheus scrapes the gateway, the mock and the embedded engine
 * during a short peak, with a time-scaled copy of the shipped rules (same source). Every
 * dashboard query must return data, and the 429 warning must go pending, fire during the
 * overload and resolve after it.
 */
const SCALE = 0.06;
const SCRAPE = '500ms';
const havePrometheus = spawnSync('prometheus', ['--version']).status === 0;
if (process.env.CI === 'true' && !havePrometheus) throw new Error('CI=true but no prometheus binary: .ci/run must install Debian prometheus');

interface AlertState {
  state: 'pending' | 'firing';
  labels: Record<string, string>;
}

describe.skipIf(!havePrometheus)('observability, live against a real Prometheus', () => {
  let mock: RunningMockServer;
  let gateway: RunningGateway;
  let engineServer: Server;
  let prometheus: ChildProcess;
  let promUrl: string;
  const engineRegistry = new Registry();
  const dir = mkdtempSync(join(tmpdir(), 'ratelab-prom-'));
  let outcome: LoadtestOutcome;
  const timeline: { t: number; states: string[] }[] = [];
  let t0 = 0;

  const query = async (expr: string, time?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const params = new URLSearchParams({ query: expr, ...(time ? { time: String(time / 1000) } : {}) });
    const res = (await (await fetch(`${promUrl}/api/v1/query?${params}`)).json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (res.status !== 'success') throw new Error(`${expr}: ${res.error}`);
    return res.data.result;
  };
  const alerts = async (): Promise<AlertState[]> => ((await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: AlertState[] } }).data.alerts;

  beforeAll(async () => {
    mock = await startMockServer({ profile: 'openai', timeScale: SCALE, seed: 17 });
    gateway = await startGateway({
      upstream: mock.baseURL,
      upstreamKey: 'sk-tier3-live-check',
      timeScale: SCALE,
      // A short queue turns the peak's overload into 429 refusals (the alert's subject); a spend budget gives the spend panels data.
      limiter: { queue: { maxSize: 8 }, spend: { budget: 1000 } },
    });
    engineServer = createServer((_req, res) => void engineRegistry.metrics().then((text) => res.writeHead(200, { 'content-type': engineRegistry.contentType }).end(text)));
    const engineUrl = await listen(engineServer, 0, '127.0.0.1');
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'rules.yml'), rulesYaml(SCALE));
    const target = (url: string) => new URL(url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${SCRAPE}`,
        `  evaluation_interval: ${SCRAPE}`,
        'rule_files: [rules.yml]',
        'scrape_configs:',
        `  - { job_name: gateway, static_configs: [{ targets: ['${target(gateway.url)}'] }] }`,
        `  - { job_name: mock, static_configs: [{ targets: ['${target(mock.url)}'] }] }`,
        `  - { job_name: loadtest, static_configs: [{ targets: ['${target(engineUrl)}'] }] }`,
      ].join('\n'),
    );
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${promUrl}/-/ready`)).ok) break;
      } catch {
        // starting
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    prometheus?.kill();
    await gateway?.close(1_000);
    await mock?.close();
    engineServer?.close();
  });

  it('a short peak: the 429 warning goes pending, fires during the overload and resolves after it', { timeout: 180_000 }, async () => {
    t0 = Date.now();
    const watch = setInterval(() => {
      void alerts()
        .then((list) => timeline.push({ t: Date.now(), states: list.filter((a) => a.labels.alertname === 'RatelabGateway429RateWarning').map((a) => a.state) }))
        .catch(() => undefined);
    }, 250);
    try {
      outcome = await runLoadtest({
        scenario: 'peak',
        timeScale: SCALE,
        capacity: 50,
        target: gateway.url,
        mockUrl: mock.url,
        tier: 3,
        profile: 'openai',
        seed: 17,
        outDir: join(dir, 'results'),
        registry: engineRegistry,
        afterRun: async ({ points, startedAt }) => {
          // Wait for the alert to resolve (its window slides past the overload), then report the timings.
          const deadline = Date.now() + 90_000;
          while (Date.now() < deadline && (timeline.length === 0 || timeline.at(-1)!.states.length > 0 || !timeline.some((s) => s.states.includes('firing')))) {
            await new Promise((r) => setTimeout(r, 250));
          }
          const overload = points.find((p) => p.completed > 0 && p.refusals / p.completed > 0.1);
          const overloadAt = overload ? startedAt + overload.t * 1000 : undefined;
          const first = (state: string) => timeline.find((s) => s.states.includes(state))?.t;
          const lastActive = [...timeline].reverse().find((s) => s.states.length > 0)?.t;
          const resolved = lastActive === undefined ? undefined : timeline.find((s) => s.t > lastActive && s.states.length === 0)?.t;
          const rel = (t: number | undefined) => (t === undefined || overloadAt === undefined ? null : (t - overloadAt) / 1000);
          const data = { alert: 'RatelabGateway429RateWarning', timeScale: SCALE, overloadStartS: overload?.t ?? null, pendingAfterS: rel(first('pending')), firingAfterS: rel(first('firing')), resolvedAfterS: rel(resolved) };
          const atScale1 = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)} s (${(x / SCALE / 60).toFixed(1)} min at scale 1)`);
          return { key: 'alerts', data, facts: [['429 warning pending after overload start', atScale1(data.pendingAfterS)], ['429 warning firing after overload start', atScale1(data.firingAfterS)], ['429 warning resolved after overload start', atScale1(data.resolvedAfterS)]] };
        },
      });
    } finally {
      clearInterval(watch);
    }
    const summary = JSON.parse(readFileSync(outcome.files.summary, 'utf8')) as { ratelab: { alerts: Record<string, number | null>; gatewayRefusalRate: number } };
    console.log('live alert timings:', JSON.stringify(summary.ratelab.alerts), 'refusal rate', summary.ratelab.gatewayRefusalRate.toFixed(3), 'run', ((Date.now() - t0) / 1000).toFixed(1), 's');
    expect(summary.ratelab.gatewayRefusalRate).toBeGreaterThan(0.1);
    const a = summary.ratelab.alerts;
    expect(a.pendingAfterS).not.toBeNull();
    expect(a.firingAfterS).not.toBeNull();
    expect(a.resolvedAfterS).not.toBeNull();
    expect(a.firingAfterS!).toBeGreaterThanOrEqual(a.pendingAfterS!);
    expect(a.resolvedAfterS!).toBeGreaterThan(a.firingAfterS!);
    // The for-duration (5 min scaled) sits between pending and firing.
    expect(a.firingAfterS! - a.pendingAfterS!).toBeGreaterThanOrEqual(5 * 60 * SCALE - 1);
    expect(readFileSync(outcome.files.report, 'utf8')).toContain('429 warning firing after overload start');
  });

  it('every dashboard panel query returns data from the run', { timeout: 60_000 }, async () => {
    expect(outcome).toBeDefined();
    // Ask at the height of the overload, with $__rate_interval as Grafana would set it for this scrape interval.
    const peakPoint = outcome.points.reduce((a, p) => (p.offered > a.offered ? p : a), outcome.points[0]!);
    const at = outcome.run.startedAt + peakPoint.t * 1000;
    const empty: string[] = [];
    let queries = 0;
    for (const [name, build] of Object.entries(DASHBOARDS)) {
      const dashboard = build() as { panels?: { title?: string; targets?: { expr?: string }[] }[] };
      for (const panel of dashboard.panels ?? []) {
        for (const target of panel.targets ?? []) {
          const expr = target.expr!.replaceAll('$__rate_interval', '4s');
          queries++;
          const result = await query(expr, at);
          if (result.length === 0) empty.push(`${name} / ${panel.title}: ${expr}`);
        }
      }
    }
    expect(queries).toBeGreaterThan(40);
    expect(empty).toEqual([]);
  });
});
