import { describe, expect, it } from 'vitest';
import { completedEvent, errorEvent, partialImageEvent, type StreamEcho, type StreamUsage } from '../../src/openai/stream-events.ts';
import { classifyAnswer, streamErrorOf } from './answers.ts';

const echo: StreamEcho = { background: 'opaque', output_format: 'png', quality: 'low', size: '1024x1024', created_at: 0 };
const usage: StreamUsage = { input_tokens: 10, output_tokens: 100, total_tokens: 110, input_tokens_details: { text_tokens: 10, image_tokens: 0 } };

describe('streamErrorOf', () => {
  it('finds the error event of a stream that ended without its image, with its type and code', () => {
    const text = partialImageEvent('edits', 'AAAA', 0, echo) + errorEvent({ message: 'blocked', type: 'image_generation_user_error', code: 'moderation_blocked', param: null });
    expect(streamErrorOf(text)).toEqual({ errorType: 'image_generation_user_error', errorCode: 'moderation_blocked' });
    expect(classifyAnswer({ status: 200, errorType: undefined, upstreamStatus: 200, streamError: streamErrorOf(text) })).toMatchObject({ ok: false, clear: true, refusal: false, provider429: false });
  });

  it('is undefined for a completed stream and for a JSON image, so they stay images', () => {
    const done = partialImageEvent('generations', 'AAAA', 0, echo) + completedEvent('generations', 'AAAA', echo, usage, undefined);
    expect(streamErrorOf(done)).toBeUndefined();
    expect(streamErrorOf('{"created":1,"data":[{"b64_json":"AAAA"}]}')).toBeUndefined();
    expect(classifyAnswer({ status: 200, errorType: undefined, upstreamStatus: 200, streamError: streamErrorOf(done) }).ok).toBe(true);
  });

  it('an error event without a readable error still stops the image (and is not a clear answer)', () => {
    const broken = streamErrorOf('event: error\ndata: not json\n\n');
    expect(broken).toEqual({ errorType: undefined, errorCode: undefined });
    expect(classifyAnswer({ status: 200, errorType: undefined, upstreamStatus: undefined, streamError: broken })).toMatchObject({ ok: false, clear: false });
  });
});
