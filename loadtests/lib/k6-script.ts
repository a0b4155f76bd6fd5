/**
 * The body of every k6 script in loadtests/: options from scenarios.ts, one image request
 * per iteration with the same custom metrics the embedded engine records, an outage
 * injector for the recovery scenario, and a JSON summary. Runs in k6 only.
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { LOADTEST_METRICS as M } from '../../src/metrics/catalogue.ts';
import { parseGoDuration } from '../../src/core/duration.ts';
import { customScenario, DEFAULT_CAPACITY, DEFAULT_TIME_SCALE, scenario, type LoadOptions, type RunnableScenario } from '../scenarios.ts';
import { apiKeyFor, DEFAULT_MIX, MIXES, priorityKeysOf, classFields, editBody, pickClass, type RequestMix, type RunKeys } from '../mixes.ts';
import { CHECKS, classifyAnswer, DEFAULT_LOADTEST_MODEL, errorOf, streamErrorOf } from './answers.ts';
import { iterationTrace } from './traceparent.ts';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:4020').replace(/\/$/, '');
const API_KEY = __ENV.API_KEY || 'sk-ratelab-dev';
const MOCK_URL = (__ENV.MOCK_URL || 'http://127.0.0.1:4010').replace(/\/$/, '');
const TIME_SCALE = Number(__ENV.TIME_SCALE || DEFAULT_TIME_SCALE);
const CAPACITY = Number(__ENV.CAPACITY || DEFAULT_CAPACITY);
const MODEL = __ENV.MODEL || DEFAULT_LOADTEST_MODEL;
/** Share of requests whose traceparent is flagged sampled (`ratelab loadtest --trace-ratio`). */
const TRACE_RATIO = Number(__ENV.TRACE_RATIO || 1);

/** MIX: a built-in mix by name, or a JSON mix file (`ratelab loadtest --mix <file>` writes the one it validated beside the summary). */
function mixOf(spec: string): RequestMix {
  const builtIn = MIXES[spec];
  if (builtIn) return builtIn;
  if (!/\.json$/.test(spec)) throw new Error(`MIX: expected a built-in mix (${Object.keys(MIXES).join(', ')}) or a .json mix file, got ${spec}`);
  return JSON.parse(open(spec)) as RequestMix;
}
const MIX = mixOf(__ENV.MIX || DEFAULT_MIX);
/** A class's priority is its client's: API_KEY_CRITICAL, API_KEY_HIGH, API_KEY_NORMAL, API_KEY_LOW name those clients' keys. */
const KEYS: RunKeys = { key: API_KEY, byPriority: priorityKeysOf(__ENV) };

/** `custom`'s load from the environment: RATE (images/min) or VUS, and DURATION (a Go duration), at scale 1. */
/** `custom`'s load: OPTIONS_FILE (k6 options as run, which `ratelab loadtest custom --options` writes), or RATE or VUS for DURATION. */
function customLoad() {
  if (__ENV.OPTIONS_FILE) return { options: JSON.parse(open(__ENV.OPTIONS_FILE)) as LoadOptions, description: `k6 options from ${__ENV.OPTIONS_FILE}` };
  return {
    ...(__ENV.RATE ? { rate: Number(__ENV.RATE) } : {}),
    ...(__ENV.VUS ? { vus: Number(__ENV.VUS) } : {}),
    durationMs: parseGoDuration(__ENV.DURATION || '10m'),
  };
}

export function k6Script(name: RunnableScenario) {
  const at = { capacity: CAPACITY, timeScale: TIME_SCALE };
  const plan = name === 'custom' ? customScenario(customLoad(), at) : scenario(name, at);
  const provider429 = new Rate(M.provider429.name);
  const refusals = new Rate(M.refusals.name);
  const queueWait = new Trend(M.queueWait.name, true);
  const attempts = new Trend(M.attempts.name);
  const upstream429 = new Counter(M.upstream429.name);
  const firstImage = new Trend(M.timeToFirstImage.name, true);
  // k6's default, said aloud: a refusal (429, 503) or a provider 429 is a failed request; ratelab's rates say which it was.
  http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }));
  const params = { headers: { 'content-type': 'application/json' }, timeout: `${Math.ceil(360 * TIME_SCALE + 30)}s` };

  function iteration(): void {
    const c = pickClass(MIX, __VU, __ITER, exec.scenario.iterationInTest);
    const tags = { class: c.name };
    const authorization = `Bearer ${apiKeyFor(c, KEYS)}`;
    // A trace per request, as the embedded engine starts one: the gateway and the mock continue it.
    const traceparent = iterationTrace(new Uint8Array(randomBytes(25)), TRACE_RATIO).header;
    let res;
    if (c.endpoint === 'edits') {
      const edit = editBody(c, __VU, __ITER, MODEL);
      res = http.post(`${BASE_URL}/v1/images/edits`, edit.body.buffer, { ...params, headers: { authorization, 'content-type': edit.contentType, traceparent }, tags });
    } else {
      res = http.post(`${BASE_URL}/v1/images/generations`, JSON.stringify(classFields(c, __VU, __ITER, MODEL)), { ...params, headers: { ...params.headers, authorization, traceparent }, tags });
    }
    const body = typeof res.body === 'string' ? res.body : null;
    const upstreamStatus = Number(res.headers['X-Ratelab-Upstream-Status'] ?? NaN);
    const facts = {
      status: res.status,
      ...(res.status === 200 ? { errorType: undefined, streamError: body === null ? undefined : streamErrorOf(body) } : errorOf(body)),
      upstreamStatus: Number.isNaN(upstreamStatus) ? undefined : upstreamStatus,
    };
    const answer = classifyAnswer(facts);
    provider429.add(answer.provider429, tags);
    // Tagged by reason, so `ratelab_gateway_refusals{reason:deadline_unmeetable}` can carry a threshold.
    refusals.add(answer.refusal, answer.reason ? { ...tags, reason: answer.reason } : tags);
    const queueMs = Number(res.headers['X-Ratelab-Queue-Ms']);
    if (!Number.isNaN(queueMs)) queueWait.add(queueMs, tags);
    const tries = Number(res.headers['X-Ratelab-Attempts']);
    if (!Number.isNaN(tries)) attempts.add(tries, tags);
    if (facts.upstreamStatus === 429) upstream429.add(1, tags);
    // k6 reads a response whole: a stream's first partial image is not seen, so its first image is the answer.
    if (answer.ok) firstImage.add(res.timings.duration, tags);
    check(res, { [CHECKS.image]: () => answer.ok, [CHECKS.clear]: () => answer.clear }, tags);
  }

  function injectOutage(): void {
    if (!plan.outage) return;
    const res = http.post(`${MOCK_URL}/__admin/faults`, JSON.stringify(plan.outage.fault), { headers: { 'content-type': 'application/json' } });
    check(res, { 'outage injected': (r) => r.status === 201 });
  }

  function handleSummary(data: { metrics: Record<string, { values: Record<string, number> }> }): Record<string, string> {
    const out = __ENV.SUMMARY_PATH || `results/${name}-k6-summary.json`;
    const v = (metric: string, stat: string) => data.metrics[metric]?.values[stat];
    const line = `ratelab ${name}: ${v('http_reqs', 'count') ?? 0} requests, p95 ${Math.round(v('http_req_duration', 'p(95)') ?? 0)} ms, provider 429 ${(100 * (v(M.provider429.name, 'rate') ?? 0)).toFixed(2)} %, refusals ${(100 * (v(M.refusals.name, 'rate') ?? 0)).toFixed(2)} %, dropped ${v('dropped_iterations', 'count') ?? 0}\n`;
    return { stdout: line, [out]: JSON.stringify(data, null, 2) };
  }

  return { options: { ...plan.options, summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] }, iteration, injectOutage, handleSummary };
}
