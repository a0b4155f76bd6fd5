import { Agent, request } from 'undici';
import { CHECKS, classifyAnswer, errorOf, imageRequestBody, isExpectedStatus } from '../../loadtests/lib/answers.ts';
import type { Clock } from '../core/clock.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import { INTENDED_METRIC } from './engine.ts';
import type { IterationContext, IterationFn } from './iteration.ts';
import type { Metrics } from './metrics.ts';

export interface ImageIterationOptions {
  /** The gateway's (or any OpenAI-compatible) base URL without /v1, e.g. http://127.0.0.1:4020. */
  baseURL: string;
  apiKey: string;
  /** The model every request asks for. */
  model: string;
  clock: Clock;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Connections to keep per origin: at least the scenario's maxVUs. */
  connections: number;
}

const HEADER_BYTES = 300;

/**
 * What the k6 scripts' default function does (loadtests/lib/k6-script.ts), in Node: one
 * images request, k6's HTTP metrics (tagged with status and expected_response: 200–399, k6's
 * default, so a refusal is a failed request), the custom metrics read from the gateway's
 * headers, and the same two checks. Latency is also recorded from the iteration's
 * intended start, so a late start (coordinated omission) cannot hide.
 */
export function imageIteration(metrics: Metrics, o: ImageIterationOptions): { fn: IterationFn; close: () => Promise<void> } {
  const dispatcher = new Agent({ connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs });
  const url = `${o.baseURL.replace(/\/$/, '')}/v1/images/generations`;
  const headers = { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' };
  const fn: IterationFn = async (ctx) => {
    const body = imageRequestBody(ctx.vu, ctx.iteration, o.model);
    const sent = o.clock.now();
    let status = 0;
    let text = '';
    let got: Record<string, string | string[] | undefined> = {};
    let firstByte = sent;
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher, signal: ctx.signal });
      firstByte = o.clock.now();
      status = res.statusCode;
      got = res.headers;
      text = await res.body.text();
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      // Connection failures are answers too: status 0, as k6 reports them.
    }
    recordAnswer(metrics, ctx, { status, text, headers: got, sentAt: sent, firstByteAt: firstByte, doneAt: o.clock.now(), bytesSent: body.length });
  };
  return { fn, close: () => dispatcher.close() };
}

export interface AnswerRecord {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  sentAt: number;
  firstByteAt: number;
  doneAt: number;
  bytesSent: number;
}

/** A header's value as a number; undefined when absent or not one. */
function numberHeader(headers: AnswerRecord['headers'], name: string): number | undefined {
  const v = headers[name];
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v === undefined || Number.isNaN(n) ? undefined : n;
}

/** Records one answer as k6's HTTP metrics plus ratelab's (shared by every iteration kind). */
export function recordAnswer(metrics: Metrics, ctx: IterationContext, a: AnswerRecord): void {
  const { status, text } = a;
  const expected = isExpectedStatus(status);
  const tags = { scenario: ctx.scenario, status: String(status), expected_response: String(expected) };
  metrics.add('http_reqs', 1, tags);
  metrics.add('http_req_duration', a.doneAt - a.sentAt, tags);
  metrics.add('http_req_waiting', a.firstByteAt - a.sentAt, tags);
  metrics.add('http_req_failed', expected ? 0 : 1, tags);
  metrics.add('data_sent', a.bytesSent + HEADER_BYTES, tags);
  metrics.add('data_received', text.length + HEADER_BYTES, tags);
  metrics.add(INTENDED_METRIC, a.doneAt - ctx.scheduledAt, tags);
  const upstreamStatus = numberHeader(a.headers, 'x-ratelab-upstream-status');
  const answer = classifyAnswer({ status, ...(status === 200 ? { errorType: undefined } : errorOf(text)), upstreamStatus });
  metrics.add(M.provider429.name, answer.provider429 ? 1 : 0, tags);
  metrics.add(M.refusals.name, answer.refusal ? 1 : 0, answer.reason ? { ...tags, reason: answer.reason } : tags);
  const queueMs = numberHeader(a.headers, 'x-ratelab-queue-ms');
  if (queueMs !== undefined) metrics.add(M.queueWait.name, queueMs, tags);
  const attempts = numberHeader(a.headers, 'x-ratelab-attempts');
  if (attempts !== undefined) metrics.add(M.attempts.name, attempts, tags);
  if (upstreamStatus === 429) metrics.add(M.upstream429.name, 1, tags);
  metrics.add('checks', answer.ok ? 1 : 0, { ...tags, check: CHECKS.image });
  metrics.add('checks', answer.clear ? 1 : 0, { ...tags, check: CHECKS.clear });
}
