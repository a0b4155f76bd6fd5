import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { runLoadtest } from '../src/cli/loadtest-run.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import { SPAN_ATTRS, SPAN_NAMES } from '../src/metrics/spans.ts';
import { startTracing } from '../src/metrics/tracing.ts';
import { freePort } from './support/free-port.ts';
import { GatewayProcess } from './support/gateway-process.ts';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const SCALE = 0.1;

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

const OTEL_ENV = (endpoint: string) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });

/**
 * One trace from the client to the mock, through real processes: `ratelab mock` with one GPU
 * slot (a request that finds it busy meets a contention 429 with retry-after), `ratelab
 * gateway` in front of it with one concurrency slot, both exporting OTLP/HTTP protobuf to a
 * receiver that decodes with OpenTelemetry's own definitions. Another tenant's request takes
 * the mock's slot directly; then two requests from the official SDK, each with its own
 * `traceparent`, are both throttled, and retry one after the other through the gateway's
 * one slot: the second waits in the gateway's queue for it.
 */
describe('OpenTelemetry: client → gateway → limiter → upstream attempts → mock, one trace', () => {
  let receiver: OtlpReceiver;
  let mock: ChildProcess;
  let mockUrl: string;
  let gateway: GatewayProcess;
  const dir = mkdtempSync(join(tmpdir(), 'ratelab-otel-'));

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    writeFileSync(
      join(dir, 'one-slot.yaml'),
      [
        'extends: openai',
        'name: one-slot',
        // Every request takes 4–5 s (0.4–0.5 s at this scale); the retry-after (6 s) outlasts it, so the retry finds the slot free.
        'latency: { p50: 4s, p95: 4.5s, p99: 5s, min: 4s, max: 5s }',
        'pool: { slots: 1, queue: 0, background: { kind: none }, contention: { status: 429, retryAfter: 6s } }',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'gateway.yaml'), 'limiter:\n  concurrency: { mode: fixed, limit: 1 }\n  retry: { maxAttempts: 3 }\n');
    const port = await freePort();
    mockUrl = `http://127.0.0.1:${port}`;
    mock = spawn(process.execPath, ['bin/ratelab.js', 'mock', '--port', String(port), '--profile', join(dir, 'one-slot.yaml'), '--time-scale', String(SCALE)], {
      env: { ...process.env, ...OTEL_ENV(receiver.endpoint) },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    gateway = await GatewayProcess.start(['--upstream', `http://127.0.0.1:${port}/v1`, '--time-scale', String(SCALE), '--config', join(dir, 'gateway.yaml')], { ...OTEL_ENV(receiver.endpoint), UPSTREAM_API_KEY: 'sk-tier5-otel-test-key' });
  }, 30_000);

  afterAll(async () => {
    mock?.kill('SIGKILL');
    gateway?.kill('SIGKILL');
    await receiver?.close();
  });

  it('continues the client’s trace through the gateway’s queue and attempts to the mock, and exports on SIGTERM', { timeout: 60_000 }, async () => {
    const client = new OpenAI({ baseURL: gateway.baseURL, apiKey: 'sk-ratelab-dev', maxRetries: 0 });
    // Another tenant holds the mock's one GPU slot for 0.4–0.5 s.
    const other = fetch(`${mockUrl}/v1/images/generations`, { method: 'POST', headers: { authorization: 'Bearer sk-tier5-other-tenant', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-image-1.5', prompt: 'x', quality: 'low' }) });
    await new Promise((r) => setTimeout(r, 50));
    const parents = [traceparent(), traceparent()];
    const answers = await Promise.all(
      parents.map((p, i) =>
        new Promise((r) => setTimeout(r, 10 * i)).then(() => client.images.generate({ model: 'gpt-image-1.5', prompt: `a lighthouse ${i}`, size: '1024x1024', quality: 'low' }, { headers: { traceparent: p.header } })),
      ),
    );
    expect((await other).status).toBe(200);
    expect(answers.every((a) => a.data?.length === 1)).toBe(true);
    // SIGTERM: the gateway closes and exports what its batch still holds.
    gateway.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    mock.kill('SIGTERM');

    const mine = (s: ReceivedSpan) => parents.some((p) => p.traceId === s.traceId);
    const spans = await receiver.until((all) => all.filter((s) => mine(s) && s.service === 'ratelab-mock').length >= 4);
    expect(receiver.refused).toEqual([]);
    const byTrace = parents.map((p) => spans.filter((s) => s.traceId === p.traceId));
    const childOf = (list: ReceivedSpan[], parent: ReceivedSpan) => list.filter((s) => s.parentSpanId === parent.spanId).sort((a, b) => a.startMs - b.startMs);

    // Each request: one gateway SERVER span, the child of the client's span, describing the request but never its prompt.
    const servers = byTrace.map((list, i) => {
      const server = list.filter((s) => s.service === 'ratelab-gateway' && s.kind === 'SPAN_KIND_SERVER');
      expect(server).toHaveLength(1);
      expect(server[0]!.parentSpanId).toBe(parents[i]!.spanId);
      return server[0]!;
    });
    for (const s of servers) {
      expect(s.name).toBe('POST /v1/images/generations');
      expect(s.attributes).toMatchObject({ [SPAN_ATTRS.httpStatus]: 200, [SPAN_ATTRS.httpRoute]: '/v1/images/generations', [SPAN_ATTRS.genAiModel]: 'gpt-image-1.5', [SPAN_ATTRS.genAiOperation]: 'generate_content', [SPAN_ATTRS.quality]: 'low', [SPAN_ATTRS.client]: 'dev', [SPAN_ATTRS.timeScale]: SCALE });
      expect(typeof s.attributes[SPAN_ATTRS.genAiOutputTokens]).toBe('number');
    }
    expect(JSON.stringify(spans)).not.toMatch(/lighthouse|sk-tier5-otel-test-key|sk-ratelab-dev/);
    // Each request's log line names its trace.
    for (const p of parents) expect(gateway.output).toContain(`"traceId":"${p.traceId}"`);

    // Each: queue → attempt 1 (429, contention, retry-after) → queue again → attempt 2 (200), each attempt continued by a mock span.
    const steps = byTrace.map((list, i) => childOf(list, servers[i]!));
    for (const [i, list] of byTrace.entries()) {
      expect(steps[i]!.map((s) => s.name)).toEqual([SPAN_NAMES.queue, SPAN_NAMES.attempt, SPAN_NAMES.queue, SPAN_NAMES.attempt]);
      const [, first, retryWait, second] = steps[i]! as [ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan];
      expect(first.kind).toBe('SPAN_KIND_CLIENT');
      expect(first.attributes).toMatchObject({ [SPAN_ATTRS.attempt]: 1, [SPAN_ATTRS.httpStatus]: 429, [SPAN_ATTRS.outcome]: 'contention', [SPAN_ATTRS.retryAfterMs]: 600, [SPAN_ATTRS.upstream]: 'default', [SPAN_ATTRS.errorType]: '429' });
      expect(first.status).toBe('STATUS_CODE_ERROR');
      expect(retryWait.attributes[SPAN_ATTRS.retry]).toBe(true);
      expect(retryWait.endMs - retryWait.startMs).toBeGreaterThanOrEqual(590);
      expect(second.attributes).toMatchObject({ [SPAN_ATTRS.attempt]: 2, [SPAN_ATTRS.resendCount]: 1, [SPAN_ATTRS.httpStatus]: 200, [SPAN_ATTRS.outcome]: 'ok' });
      expect(second.attributes[SPAN_ATTRS.urlFull]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/images\/generations$/);
      expect(typeof second.attributes[SPAN_ATTRS.remainingRequests]).toBe('number');
      const [mockFirst] = childOf(list, first);
      const [mockSecond] = childOf(list, second);
      expect(mockFirst).toMatchObject({ service: 'ratelab-mock', kind: 'SPAN_KIND_SERVER', name: 'POST /v1/images/generations' });
      expect(mockFirst!.attributes).toMatchObject({ [SPAN_ATTRS.httpStatus]: 429, [SPAN_ATTRS.mockReason]: 'contention' });
      expect(mockSecond!.attributes).toMatchObject({ [SPAN_ATTRS.httpStatus]: 200, [SPAN_ATTRS.mockReason]: 'ok' });
      // The spans nest in time as they do in the tree.
      expect(mockSecond!.startMs).toBeGreaterThanOrEqual(second.startMs);
      expect(second.endMs).toBeLessThanOrEqual(servers[i]!.endMs + 1);
    }
    // The first retried as soon as its retry-after ended; the second, retrying a moment later, waited for the gateway's one slot, and says so.
    expect(steps[0]![2]!.attributes[SPAN_ATTRS.waitReason]).toBe('backoff');
    const waited = steps[1]![2]!;
    expect(waited.attributes).toMatchObject({ [SPAN_ATTRS.waitReason]: 'concurrency', [SPAN_ATTRS.priority]: 2 });
    expect(waited.endMs).toBeGreaterThanOrEqual(steps[0]![3]!.endMs - 1);
  });
});

const havePrometheus = spawnSync('prometheus', ['--version']).status === 0;
if (process.env.CI === 'true' && !havePrometheus) throw new Error('CI=true but no prometheus binary: .ci/run must install Debian prometheus');

/**
 * Exemplars: with tracing on, the gateway's latency histograms keep the trace id of a sampled
 * request per bucket, /metrics is OpenMetrics, and a real Prometheus with exemplar storage
 * on returns them from /api/v1/query_exemplars — the link a Grafana panel follows.
 */
describe.skipIf(!havePrometheus)('exemplars: trace ids on the latency histograms, stored by a real Prometheus', () => {
  let receiver: OtlpReceiver;
  let mock: RunningMockServer;
  let gateway: RunningGateway;
  let prometheus: ChildProcess;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    mock = await startMockServer({ profile: 'openai', timeScale: 0.01, seed: 3 });
    gateway = await startGateway({ upstream: mock.baseURL, upstreamKey: 'sk-tier3-exemplars', timeScale: 0.01, config: { otel: { endpoint: receiver.endpoint } } });
  });

  afterAll(async () => {
    prometheus?.kill();
    await gateway?.close(1_000);
    await mock?.close();
    await receiver?.close();
  });

  it('exposes trace ids as exemplars in OpenMetrics, and Prometheus stores and returns them', { timeout: 60_000 }, async () => {
    const client = new OpenAI({ baseURL: gateway.baseURL, apiKey: 'sk-ratelab-dev', maxRetries: 0 });
    const sent = Array.from({ length: 4 }, traceparent);
    for (const p of sent) await client.images.generate({ model: 'gpt-image-1.5', prompt: 'a kite', quality: 'low' }, { headers: { traceparent: p.header } });
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    expect(metrics.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const text = await metrics.text();
    const exemplar = /^ratelab_gateway_request_duration_seconds_bucket\{[^}]*route="images"[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\} [\d.e-]+ [\d.]+$/m.exec(text);
    expect(exemplar, text.slice(0, 2000)).not.toBeNull();
    expect(sent.map((p) => p.traceId)).toContain(exemplar![1]);
    expect(text).toMatch(/^ratelab_gateway_time_to_first_image_seconds_bucket\{.*\} \d+ # \{trace_id="[0-9a-f]{32}"\}/m);
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'ratelab-exemplars-'));
    const port = await freePort();
    const promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'prometheus.yml'), ['global: { scrape_interval: 500ms }', 'scrape_configs:', `  - { job_name: gateway, static_configs: [{ targets: ['${new URL(gateway.url).host}'] }] }`].join('\n'));
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage'], { stdio: 'ignore' });
    type Exemplars = { status: string; data: { seriesLabels: Record<string, string>; exemplars: { labels: { trace_id: string } }[] }[] };
    let found: Exemplars['data'] = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const params = new URLSearchParams({ query: 'ratelab_gateway_request_duration_seconds_bucket', start: String(Date.now() / 1000 - 600), end: String(Date.now() / 1000 + 60) });
      const res = await fetch(`${promUrl}/api/v1/query_exemplars?${params}`).then((r) => r.json() as Promise<Exemplars>, () => undefined);
      found = res?.status === 'success' ? res.data : [];
    }
    const ids = found.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => sent.some((p) => p.traceId === id))).toBe(true);
    // And the spans those ids name were exported.
    await receiver.until((spans) => ids.every((id) => spans.some((s) => s.traceId === id && s.service === 'ratelab-gateway')));
  });
});

/** The embedded engine starts a trace per request; the stack it runs continues each down to the mock; the summary names the slowest by trace id. */
describe('a load test’s traces', () => {
  it('is one trace per request from the engine to the mock, and the summary names the slowest by trace id', { timeout: 60_000 }, async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ratelab-otel-run-'));
      const outcome = await runLoadtest({
        scenario: 'custom', custom: { rate: 120, durationMs: 30_000 }, timeScale: 0.01, tier: 3, profile: 'openai', seed: 5, traceRatio: 0.5,
        outDir: dir, gatewayConfig: parseGatewayConfig({ otel: { endpoint: receiver.endpoint } }),
      });
      const slowest = outcome.summary.ratelab.slowest!;
      // About half of 60 requests were sampled: ten of them named.
      expect(slowest.length).toBe(10);
      expect(slowest.map((s) => s.latencyMs)).toEqual([...slowest.map((s) => s.latencyMs)].sort((a, b) => b - a));
      // Production time: at scale 0.01 a request takes seconds of production time, not tens of ms.
      expect(slowest[0]!.latencyMs).toBeGreaterThan(1_000);
      const sampled = slowest;
      const spans = await receiver.until((all) => sampled.every((s) => all.some((x) => x.traceId === s.traceId && x.service === 'ratelab-mock')));
      // Only sampled traces reach the exporter: the gateway's parent-based sampler follows the engine's flag.
      const served = spans.filter((x) => x.service === 'ratelab-gateway' && x.kind === 'SPAN_KIND_SERVER').length;
      expect(served).toBeGreaterThan(10);
      expect(served).toBeLessThan(outcome.summary.ratelab.requests - 10);
      // An unsampled request reaches the mock flagged unsampled, so the mock starts no trace of its own for it.
      const gatewayTraces = new Set(spans.filter((x) => x.service === 'ratelab-gateway').map((x) => x.traceId));
      expect(spans.filter((x) => x.service === 'ratelab-mock' && !gatewayTraces.has(x.traceId))).toEqual([]);
      for (const s of sampled) {
        const trace = spans.filter((x) => x.traceId === s.traceId);
        const server = trace.find((x) => x.service === 'ratelab-gateway' && x.kind === 'SPAN_KIND_SERVER')!;
        // The engine's request is the root: its span id is the gateway span's parent, not exported itself.
        expect(server.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
        expect(trace.some((x) => x.spanId === server.parentSpanId)).toBe(false);
        const mock = trace.find((x) => x.service === 'ratelab-mock')!;
        const attempt = trace.find((x) => x.spanId === mock.parentSpanId)!;
        expect(attempt.name).toBe(SPAN_NAMES.attempt);
        expect(attempt.parentSpanId).toBe(server.spanId);
      }
      const report = readFileSync(outcome.files.report, 'utf8');
      expect(report).toContain(slowest[0]!.traceId);
    } finally {
      await receiver.close();
    }
  });
});

/** An async job's runs: each in the trace of the request that submitted it, the limiter's spans beneath, a failed run and its retry alike. */
describe('async job runs in the submitter’s trace', () => {
  it('traces every run of a job, the failed one and its retry, under the submitting request', { timeout: 60_000 }, async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing('ratelab-gateway', undefined, {}, exporter);
    const mock = await startMockServer({ profile: 'openai', timeScale: 0.01, seed: 4 });
    const gateway = await startGateway({
      upstream: mock.baseURL, upstreamKey: 'sk-tier5-jobs-trace', timeScale: 0.01, tracing,
      // One attempt per run, so a provider failure fails the run and the job retries it after its backoff (10 s, 100 ms here).
      config: { limiter: { retry: { maxAttempts: 1 } }, jobs: { backoff: '10s' } },
    });
    try {
      await fetch(`${mock.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'error', rate: 1, status: 500 }) });
      const p = traceparent();
      const submitted = await fetch(`${gateway.baseURL}/jobs/images`, { method: 'POST', headers: { authorization: 'Bearer sk-ratelab-dev', 'content-type': 'application/json', traceparent: p.header }, body: JSON.stringify({ model: 'gpt-image-1.5', prompt: 'a harbour', quality: 'low' }) });
      expect(submitted.status).toBe(202);
      const { id } = (await submitted.json()) as { id: string };
      const status = async () => ((await (await fetch(`${gateway.baseURL}/jobs/${id}`, { headers: { authorization: 'Bearer sk-ratelab-dev' } })).json()) as { status: string; attempts: number });
      // The first run fails on the provider's 500; then the provider recovers and the retry succeeds.
      for (let i = 0; i < 100 && (await status()).attempts < 1; i++) await new Promise((r) => setTimeout(r, 20));
      await fetch(`${mock.url}/__admin/faults`, { method: 'DELETE' });
      for (let i = 0; i < 200 && (await status()).status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await status()).toMatchObject({ status: 'succeeded', attempts: 2 });
    } finally {
      await gateway.close(1_000);
      await mock.close();
    }
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    const submit = spans.find((s) => s.name === 'POST /v1/jobs/images')!;
    expect(submit.attributes[SPAN_ATTRS.httpStatus]).toBe(202);
    const runs = spans.filter((s) => s.name === SPAN_NAMES.jobRun).sort((a, b) => Number(a.attributes[SPAN_ATTRS.jobRun]) - Number(b.attributes[SPAN_ATTRS.jobRun]));
    expect(runs.map((r) => [r.attributes[SPAN_ATTRS.jobRun], r.attributes[SPAN_ATTRS.httpStatus]])).toEqual([[1, 500], [2, 200]]);
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(submit.spanContext().traceId);
      expect(run.parentSpanContext?.spanId).toBe(submit.spanContext().spanId);
      expect(run.links.map((l) => l.context.spanId)).toEqual([submit.spanContext().spanId]);
      const attempts = spans.filter((s: ReadableSpan) => s.name === SPAN_NAMES.attempt && s.parentSpanContext?.spanId === run.spanContext().spanId);
      expect(attempts).toHaveLength(1);
    }
    expect(runs[0]!.status.code).toBe(2);
  });
});
