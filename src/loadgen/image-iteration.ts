import { request, type Dispatcher } from 'undici';
import { CHECKS, classifyAnswer, errorOf, isExpectedStatus, streamErrorOf, type ErrorFacts } from '../../loadtests/lib/answers.ts';
import { apiKeyFor, DEFAULT_MIX, MIXES, pickClass, type RequestMix, type RunKeys } from '../../loadtests/mixes.ts';
import type { Clock } from '../core/clock.ts';
import { IMAGE_EVENT } from '../openai/stream-events.ts';
import { classRequest } from './class-request.ts';
import type { IterationTraces } from './iteration-traces.ts';
import { connectionPool } from './connection-pool.ts';
import { LOADTEST_METRICS as M } from '../metrics/catalogue.ts';
import { INTENDED_METRIC } from './engine.ts';
import type { IterationContext, IterationFn } from './iteration.ts';
import type { Metrics, Tags } from './metrics.ts';

export interface ImageIterationOptions {
  /** The gateway's (or any OpenAI-compatible) base URL without /v1, e.g. http://127.0.0.1:4020. */
  baseURL: string;
  apiKey: string;
  /** Keys for classes of other priorities (`API_KEY_HIGH`, ...); with the dev key, the dev client of each priority is the default. */
  priorityKeys?: RunKeys['byPriority'];
  /** The model every request asks for. */
  model: string;
  clock: Clock;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Connections to keep per origin: at least the scenario's maxVUs. */
  connections: number;
  /** What the iterations send; default the `single` mix (loadtests/mixes.ts). */
  mix?: RequestMix;
  /** A connection pool made (and warmed) by the caller, who then closes it; default: one made here for `connections`. */
  dispatcher?: Dispatcher;
  /** A `traceparent` per request and the slowest answers' trace ids; default none sent. */
  traces?: IterationTraces;
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
  const base = o.baseURL.replace(/\/$/, '');
  const mix = o.mix ?? MIXES[DEFAULT_MIX]!;
  const keys: RunKeys = { key: o.apiKey, ...(o.priorityKeys ? { byPriority: o.priorityKeys } : {}) };
  // Headers per class, made once: a class's priority picks its client key.
  const json = new Map(mix.classes.map((c) => [c, { authorization: `Bearer ${apiKeyFor(c, keys)}`, 'content-type': 'application/json' }]));
  const fn: IterationFn = async (ctx) => {
    const c = pickClass(mix, ctx.vu, ctx.iteration, ctx.iterationInTest);
    const req = classRequest(c, ctx.vu, ctx.iteration, o.model);
    const t = o.traces?.next();
    const own = json.get(c)!;
    const plain: Record<string, string> = req.body instanceof Uint8Array ? { authorization: own.authorization, 'content-type': req.contentType } : own;
    const headers = t ? { ...plain, traceparent: t.header } : plain;
    const sent = o.clock.now();
    let status = 0;
    let text = '';
    let got: Record<string, string | string[] | undefined> = {};
    let firstByte = sent;
    let firstImage: number | undefined;
    try {
      const res = await request(base + req.path, { method: 'POST', headers, body: req.body, dispatcher, signal: ctx.signal });
      firstByte = o.clock.now();
      status = res.statusCode;
      got = res.headers;
      if (c.stream && status === 200) {
        const read = await readEvents(res.body, o.clock);
        text = read.text;
        firstImage = read.firstImageAt;
      } else {
        text = await res.body.text();
      }
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      // Connection failures are answers too: status 0, as k6 reports them.
    }
    const doneAt = o.clock.now();
    recordAnswer(metrics, ctx, { status, text, headers: got, sentAt: sent, firstByteAt: firstByte, doneAt, bytesSent: req.body.length, class: c.name, firstImageAt: firstImage });
    if (t) o.traces!.record(t, sent, doneAt, c.name, status);
  };
  return { fn, close: () => (o.dispatcher ? Promise.resolve() : dispatcher.close()) };
}

/** A stream's events as they come: the whole text, and when the first image event arrived. */
async function readEvents(body: AsyncIterable<Buffer>, clock: Clock): Promise<{ text: string; firstImageAt: number | undefined }> {
  let text = '';
  let firstImageAt: number | undefined;
  for await (const chunk of body) {
    const before = text.length;
    text += chunk.toString('utf8');
    // From a little before the new chunk: an event name split across two chunks is found once both are in.
    if (firstImageAt === undefined && IMAGE_EVENT.test(text.slice(Math.max(0, before - 64)))) firstImageAt = clock.now();
  }
  return { text, firstImageAt };
}

export interface AnswerRecord {
  status: number;
  text: string;
  /** `error.type` and `error.code` when the caller already holds them (the simulator): `text` is then not parsed. */
  error?: ErrorFacts;
  headers: Record<string, string | string[] | undefined>;
  sentAt: number;
  firstByteAt: number;
  /** When the first image arrived: a stream's first image event; absent (or undefined), `doneAt`. */
  firstImageAt?: number | undefined;
  doneAt: number;
  bytesSent: number;
  /** The request's class in its mix: the `class` tag of every sample. */
  class: string;
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
 * The tag sets of an answer, made once per scenario, class and status: a run records ~15
 * samples per answer, and fresh tag objects for each were a tenth of a simulation's garbage.
 * Samples only read their tags (listeners, sub-metric selectors), so sharing is safe.
 */
const TAGS = new Map<string, Map<string, Map<number, AnswerTags>>>();

function answerTags(scenario: string, cls: string, status: number): AnswerTags {
  let byClass = TAGS.get(scenario);
  if (!byClass) TAGS.set(scenario, (byClass = new Map()));
  let byStatus = byClass.get(cls);
  if (!byStatus) byClass.set(cls, (byStatus = new Map()));
  let tags = byStatus.get(status);
  if (!tags) {
    const base = Object.freeze({ scenario, class: cls, status: String(status), expected_response: String(isExpectedStatus(status)) });
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
  const t = answerTags(ctx.scenario, a.class, status);
  const tags = t.base;
  metrics.add('http_reqs', 1, tags);
  metrics.add('http_req_duration', a.doneAt - a.sentAt, tags);
  metrics.add('http_req_waiting', a.firstByteAt - a.sentAt, tags);
  metrics.add('http_req_failed', expected ? 0 : 1, tags);
  metrics.add('data_sent', a.bytesSent + HEADER_BYTES, tags);
  metrics.add('data_received', text.length + HEADER_BYTES, tags);
  metrics.add(INTENDED_METRIC, a.doneAt - ctx.scheduledAt, tags);
  const upstreamStatus = numberHeader(a.headers, 'x-ratelab-upstream-status');
  const answer = classifyAnswer({ status, ...(status === 200 ? { errorType: undefined, streamError: a.error ?? streamErrorOf(text) } : (a.error ?? errorOf(text))), upstreamStatus });
  metrics.add(M.provider429.name, answer.provider429 ? 1 : 0, tags);
  metrics.add(M.refusals.name, answer.refusal ? 1 : 0, answer.reason ? refusalTags(t, answer.reason) : tags);
  const queueMs = numberHeader(a.headers, 'x-ratelab-queue-ms');
  if (queueMs !== undefined) metrics.add(M.queueWait.name, queueMs, tags);
  const attempts = numberHeader(a.headers, 'x-ratelab-attempts');
  if (attempts !== undefined) metrics.add(M.attempts.name, attempts, tags);
  if (upstreamStatus === 429) metrics.add(M.upstream429.name, 1, tags);
  if (answer.ok) metrics.add(M.timeToFirstImage.name, (a.firstImageAt ?? a.doneAt) - a.sentAt, tags);
  metrics.add('checks', answer.ok ? 1 : 0, t.image);
  metrics.add('checks', answer.clear ? 1 : 0, t.clear);
}
