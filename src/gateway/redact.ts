/** OpenAI's 401 echoes a masked key ("sk-proj-****abcd"): even a masked key is not the client's to see. */
const KEY_LIKE = /\bsk-[A-Za-z0-9_*-]{3,}/g;
const SK = Buffer.from('sk-');
const REDACTED = Buffer.from('[redacted]');
/** Shorter strings would be words: a secret this short is refused at config time, not redacted here. */
export const MIN_SECRET_LENGTH = 8;

/**
 * Removes every configured secret — upstream keys, client keys, a Redis password — by its
 * exact value, and anything shaped like an OpenAI key, from what leaves the gateway:
 * answer headers and bodies of every status, job records and events (made from those
 * answers), relayed streams (event by event). An upstream that echoes its key in a header or a body (an
 * Azure-style key does not start `sk-`) leaks nothing. Searching is Buffer.indexOf
 * (native), so a 2 MB image without a secret costs microseconds and passes byte for byte.
 */
export class Redactor {
  private readonly secrets: Buffer[];
  private readonly secretTexts: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const unique = new Set<string>();
    for (const s of secrets) if (s && s.length >= MIN_SECRET_LENGTH) unique.add(s);
    // Longest first, so a secret that contains another is removed whole.
    this.secretTexts = [...unique].sort((a, b) => b.length - a.length);
    this.secrets = this.secretTexts.map((s) => Buffer.from(s));
  }

  /** The bytes with every secret replaced; the same Buffer when there is none. */
  buffer(bytes: Buffer): Buffer {
    let out = bytes;
    for (const secret of this.secrets) if (out.indexOf(secret) !== -1) out = replaceAll(out, secret, REDACTED);
    if (out.indexOf(SK) === -1) return out;
    const text = out.toString('utf8');
    const redacted = text.replace(KEY_LIKE, 'sk-[redacted]');
    return redacted === text ? out : Buffer.from(redacted);
  }

  text(value: string): string {
    // Most header values hold neither: no bytes to make for them.
    if (!value.includes('sk-') && !this.secretTexts.some((secret) => value.includes(secret))) return value;
    const bytes = Buffer.from(value);
    const out = this.buffer(bytes);
    return out === bytes ? value : out.toString('utf8');
  }

  headers(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) out[name] = this.text(value);
    return out;
  }

  /**
   * For server-sent events as they arrive: each `push` returns the complete events so far,
   * redacted whole, and holds back a partial one; `end` returns what is left. Redacting
   * whole events means neither a secret nor a key-like string can be cut by a chunk
   * boundary, and an event is of no use to a client before it is complete anyway.
   */
  events(): { push(chunk: Uint8Array): Buffer; end(): Buffer } {
    let pending: Buffer[] = [];
    return {
      push: (chunk) => {
        const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        // The end of the last complete event in this chunk ("\n\n", or "\r\n\r\n").
        let cut = Math.max(endOf(bytes, LF2), endOf(bytes, CRLF2));
        // "\n" ending one chunk and "\n" starting the next is a boundary too.
        const last = pending.at(-1);
        if (cut === -1 && last !== undefined && last[last.length - 1] === 0x0a && bytes[0] === 0x0a) cut = 1;
        if (cut === -1) {
          pending.push(bytes);
          return EMPTY;
        }
        const ready = this.buffer(Buffer.concat([...pending, bytes.subarray(0, cut)]));
        pending = cut < bytes.length ? [bytes.subarray(cut)] : [];
        return ready;
      },
      end: () => {
        const rest = this.buffer(Buffer.concat(pending));
        pending = [];
        return rest;
      },
    };
  }
}

const LF2 = Buffer.from('\n\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const endOf = (bytes: Buffer, marker: Buffer): number => {
  const at = bytes.lastIndexOf(marker);
  return at === -1 ? -1 : at + marker.length;
};

function replaceAll(bytes: Buffer, find: Buffer, by: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(find); at !== -1; at = bytes.indexOf(find, from)) {
    parts.push(bytes.subarray(from, at), by);
    from = at + find.length;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}
