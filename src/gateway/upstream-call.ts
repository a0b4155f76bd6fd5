import type { AttemptContext } from '../limiter/limiter.ts';

/** Response headers worth passing back from the provider: ids, limits, retry hints. */
const PASSED = /^(content-type|x-request-id|openai-|x-ratelimit-|retry-after)/;

/** The bytes behind each Response built here, so they are not copied a second time on the way out. */
const buffered = new WeakMap<Response, Buffer>();
const EMPTY = Buffer.alloc(0);

export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One attempt against the provider: POST the already-validated body with the upstream key,
 * buffer the answer, and report its `usage` so the limiter reconciles tokens. Returns a
 * Response (so the limiter classifies it) carrying the buffered answer.
 */
export function upstreamCall(baseURL: string, apiKey: string, body: string) {
  return async (ctx: AttemptContext): Promise<Response> => {
    const response = await fetch(`${baseURL}/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-stainless-retry-count': String(ctx.attempt - 1) },
      body,
      signal: ctx.signal,
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.ok) {
      const usage = readUsage(bytes);
      if (usage) ctx.reportUsage(usage);
    }
    const answer = new Response(bytes, { status: response.status, headers: response.headers });
    buffered.set(answer, bytes);
    return answer;
  };
}

function readUsage(bytes: Buffer): { input_tokens?: number; output_tokens?: number } | undefined {
  // The usage object sits at the end of the body; parse only that tail, not the images.
  const text = bytes.subarray(Math.max(0, bytes.length - 512)).toString('utf8');
  const match = /"usage":(\{.*\})\}\s*$/.exec(text);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as { input_tokens?: number; output_tokens?: number };
  } catch {
    return undefined;
  }
}

/** OpenAI's 401 echoes a masked key ("sk-proj-****abcd"): even a masked upstream key is not the client's to see. */
const KEY_LIKE = /\bsk-[A-Za-z0-9_*-]{3,}/g;

export function redactKeys(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const redacted = text.replace(KEY_LIKE, 'sk-[redacted]');
  return redacted === text ? body : Buffer.from(redacted);
}

export async function toAnswer(response: Response): Promise<UpstreamAnswer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (PASSED.test(name)) headers[name] = value;
  });
  const body = buffered.get(response) ?? (response.body === null ? EMPTY : Buffer.from(await response.arrayBuffer()));
  // Error bodies are small; successes carry images and never a key.
  return { status: response.status, headers, body: response.status >= 400 ? redactKeys(body) : body };
}
