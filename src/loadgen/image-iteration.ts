import { request, type Dispatcher } from 'undici';
import { CHECKS, classifyAnswer, errorOf, imageRequestBody, isExpectedStatus, type ErrorFacts } from '../../loadtests/lib/answers.ts';
import type { Clock } from '../core/clock.ts';
import { connectionPool } from './connection-pool.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import { INTENDED_METRIC } from './engine.ts';
import type { IterationContext, IterationFn } from './iteration.ts';
import type { Metrics, Tags } from './metrics.ts';

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
  /** A connection pool made (and warmed) by the caller, who then closes it; default: one made here for `connections`. */
  dispatcher?: Dispatcher;
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
  const dispatcher = o.dispatcher ?? connectionPool(o);
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
  return { fn, close: () => (o.dispatcher ? Promise.resolve() : dispatcher.close()) };
}

export interface AnswerRecord {
  status: number;
  text: string;
  /** `error.type` and `error.code` when the caller already holds them (the simulator): `text` is then not parsed. */
  error?: ErrorFacts;
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

interface AnswerTags {
  base: Tags;
  image: Tags;
  clear: Tags;
  /** With the refusal's reason, by reason. */
  refusal: Map<string, Tags>;
}

/**
 * The tag sets of an answer, made once per scenario and status: a run records ~15 samples
 * per answer, and fresh tag objects for each were a tenth of a simulation's garbage.
 * Samples only read their tags (listeners, sub-metric selectors), so sharing is safe.
 */
const TAGS = new Map<string, Map<number, AnswerTags>>();

function answerTags(scenario: string, status: number): AnswerTags {
  let byStatus = TAGS.get(scenario);
  if (!byStatus) TAGS.set(scenario, (byStatus = new Map()));
  let tags = byStatus.get(status);
  if (!tags) {
    const base = Object.freeze({ scenario, status: String(status), expected_response: String(isExpectedStatus(status)) });
    tags = { base, image: Object.freeze({ ...base, check: CHECKS.image }), clear: Object.freeze({ ...base, check: CHECKS.clear }), refusal: new Map() };
    byStatus.set(status, tags);
  }
  return tags;
}

function refusalTags(t: AnswerTags, reason: string): Tags {
  let tags = t.refusal.get(reason);
  if (!tags) t.refusal.set(reason, (tags = Object.freeze({ ...t.base, reason })));
  return tags;
}

/** Records one answer as k6's HTTP metrics plus ratelab's (shared by every iteration kind). */
export function recordAnswer(metrics: Metrics, ctx: IterationContext, a: AnswerRecord): void {
  const { status, text } = a;
  const expected = isExpectedStatus(status);
  const t = answerTags(ctx.scenario, status);
  const tags = t.base;
  metrics.add('http_reqs', 1, tags);
  metrics.add('http_req_duration', a.doneAt - a.sentAt, tags);
  metrics.add('http_req_waiting', a.firstByteAt - a.sentAt, tags);
  metrics.add('http_req_failed', expected ? 0 : 1, tags);
  metrics.add('data_sent', a.bytesSent + HEADER_BYTES, tags);
  metrics.add('data_received', text.length + HEADER_BYTES, tags);
  metrics.add(INTENDED_METRIC, a.doneAt - ctx.scheduledAt, tags);
  const upstreamStatus = numberHeader(a.headers, 'x-ratelab-upstream-status');
  const answer = classifyAnswer({ status, ...(status === 200 ? { errorType: undefined } : (a.error ?? errorOf(text))), upstreamStatus });
  metrics.add(M.provider429.name, answer.provider429 ? 1 : 0, tags);
  metrics.add(M.refusals.name, answer.refusal ? 1 : 0, answer.reason ? refusalTags(t, answer.reason) : tags);
  const queueMs = numberHeader(a.headers, 'x-ratelab-queue-ms');
  if (queueMs !== undefined) metrics.add(M.queueWait.name, queueMs, tags);
  const attempts = numberHeader(a.headers, 'x-ratelab-attempts');
  if (attempts !== undefined) metrics.add(M.attempts.name, attempts, tags);
  if (upstreamStatus === 429) metrics.add(M.upstream429.name, 1, tags);
  metrics.add('checks', answer.ok ? 1 : 0, t.image);
  metrics.add('checks', answer.clear ? 1 : 0, t.clear);
}
