import { errorFactsOf, streamErrorOf, type ErrorFacts } from '../../loadtests/lib/answers.ts';
import { classFields, inputImageBytes, pickClass, type RequestClass, type RequestMix } from '../../loadtests/mixes.ts';
import type { MockModel } from '../../mock-server/model/model.ts';
import type { Clock } from '../core/clock.ts';
import { IMAGE_EVENT } from '../openai/stream-events.ts';
import { executionTiming, gatewayError, NO_SECRETS } from '../gateway/image-call.ts';
import type { Limiter } from '../limiter/limiter.ts';
import { ReadAnswer } from '../limiter/outcome.ts';
import { costInputOf } from '../openai/cost.ts';
import { RequestError } from '../openai/errors.ts';
import { validateImageFields, type ImageRequest } from '../openai/request.ts';
import { classEditInputs } from '../loadgen/class-request.ts';

/** What the simulated client gets: what `recordAnswer` reads of a real answer. */
export interface SimAnswer {
  status: number;
  /** The body of an answer that is not an image ('' for a 200: nobody reads the image). */
  text: string;
  /** The gateway's `x-ratelab-*` headers (none without a limiter). */
  timing: Record<string, string>;
  /** Bytes of the JSON body the request would send. */
  bytesSent: number;
  /** The request's class in the mix. */
  class: string;
  /** A stream's first image event (undefined for an answer that is not a stream). */
  firstImageAt?: number | undefined;
  /** The error `text` carries, as `recordAnswer` would read it back (absent: it parses `text`); for a 200, the error event that ended its stream. */
  error?: ErrorFacts;
}

/** What reading a stream saw: its first image event, and the error event that ended it without an image. */
interface Seen {
  firstImageAt?: number;
  streamError?: ErrorFacts;
}

const ENCODER = new TextEncoder();

const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/**
 * One load-test request of the simulator, with both ends ours: the iteration's fields are
 * validated once (as the mock validates them) and priced from that same request; the mock
 * answers it without reading or writing bytes (no body for a 200), the limiter reads the
 * answer as a `ReadAnswer` rather than a Response it would clone and parse back, and the
 * client gets what the gateway's `executionAnswer` would give (its timing and refusals).
 * The HTTP path (the mock's `handle`, the gateway's `upstreamCall`) gives the same
 * answers; only the bytes are gone.
 */
export function simCall(model: MockModel, limiter: Limiter | undefined, tier: number, mix: RequestMix, clock: Clock): (vu: number, iteration: number, inTest: number) => Promise<SimAnswer> {
  const headers = { authorization: `Bearer sk-tier${tier}-sim`, 'content-type': 'application/json' };
  const validation = { generations: model.validationFor('generations'), edits: model.validationFor('edits') };
  const direct = { headers, imageBody: false };
  // A stream is read to its end inside the attempt, as the gateway's relay does: the GPU slot and the limiter's are held until its last event.
  const readStream = async (stream: AsyncIterable<string>, seen: Seen): Promise<void> => {
    for await (const event of stream) {
      if (seen.firstImageAt === undefined && IMAGE_EVENT.test(event)) seen.firstImageAt = clock.now();
      // An output-stage moderation block ends the 200 stream in an error event: the client read no image, as recordAnswer judges a real one.
      else if (event.startsWith('event: error')) seen.streamError = streamErrorOf(event);
    }
  };
  const task = (image: ImageRequest, seen: Seen) => async (): Promise<ReadAnswer<string>> => {
    const res = await model.handleImage(image, direct);
    if (res.stream) await readStream(res.stream, seen);
    if (res.reset) throw reset();
    return new ReadAnswer(res.status, res.headers, res.error, undefined, res.body);
  };
  // The bytes of an edit's references (the mock's multipart reader measures their dimensions: classEditInputs).
  const inputBytes = (c: RequestClass): number => (c.inputImages ? c.inputImages.count * inputImageBytes(c.inputImages.width, c.inputImages.height) : 0);

  return async (vu, iteration, inTest) => {
    const c = pickClass(mix, vu, iteration, inTest);
    const fields = classFields(c, vu, iteration, model.profile.defaultModel);
    const json = JSON.stringify(fields);
    const bytesSent = Buffer.byteLength(json) + inputBytes(c);
    let image: ImageRequest;
    try {
      image = validateImageFields(fields, validation[c.endpoint], classEditInputs(c));
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      // A request the mock refuses (a profile that does not serve its model, a size it does not draw): its HTTP path answers it.
      if (c.endpoint === 'generations') {
        const res = await model.handle({ method: 'POST', path: '/v1/images/generations', headers, body: ENCODER.encode(json), loopback: true });
        return { status: res.status, text: res.body, timing: {}, bytesSent, class: c.name };
      }
      return { status: error.status, text: JSON.stringify({ error: error.body }), timing: {}, bytesSent, class: c.name, error: errorFactsOf(error.body) };
    }
    const seen: Seen = {};
    if (!limiter) {
      const res = await model.handleImage(image, direct);
      if (res.stream) await readStream(res.stream, seen);
      const status = res.reset ? 0 : res.status;
      return { status, text: status === 200 ? '' : res.body, timing: {}, bytesSent, class: c.name, firstImageAt: seen.firstImageAt, ...(status === 200 && seen.streamError ? { error: seen.streamError } : {}) };
    }
    // Priced exactly as the gateway prices it: from the validated request.
    // At the class's priority, as the gateway takes it from the class's client key.
    const execution = await limiter.execute(task(image, seen), { cost: costInputOf(image), priority: c.priority ?? 'normal' });
    // What the gateway's executionAnswer gives, less the provider's headers, which a client's metrics never read.
    const timing = executionTiming(execution, 'sim');
    // The body the gateway's errorAnswer would send, without encoding it to bytes and parsing it back.
    const own = gatewayError(execution);
    if (own) return { status: own.status, text: JSON.stringify({ error: own.body }), timing, bytesSent, class: c.name, error: errorFactsOf(own.body) };
    const answer = execution.value as ReadAnswer<string>;
    if (answer.status === 200) return { status: 200, text: '', timing, bytesSent, class: c.name, firstImageAt: seen.firstImageAt, ...(seen.streamError ? { error: seen.streamError } : {}) };
    return { status: answer.status, text: NO_SECRETS.text(answer.body ?? ''), timing, bytesSent, class: c.name, ...(answer.error ? { error: errorFactsOf(answer.error) } : {}) };
  };
}
