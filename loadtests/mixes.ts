/**
 * Request mixes: what a load test's iterations send, as weighted request classes. Read by
 * the k6 scripts (`MIX`), the embedded engine and the simulator alike (`--mix`), so all
 * three send the same traffic. No imports and no runtime APIs: k6 runs this file as is.
 */

export const MIX_ENDPOINTS = ['generations', 'edits'] as const;
export const MIX_QUALITIES = ['low', 'medium', 'high', 'auto'] as const;
export const MIX_FORMATS = ['png', 'jpeg', 'webp'] as const;
/** The gateway's priorities, best first (its clients' `priority`). */
export const MIX_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type MixPriority = (typeof MIX_PRIORITIES)[number];

/** Input images of an edit: how many, and their size (synthetic PNGs of about 3 × width × height bytes). */
export interface MixInputImages {
  count: number;
  width: number;
  height: number;
}

/** One kind of request and its share of the traffic. */
export interface RequestClass {
  /** The `class` tag on every metric of its requests, e.g. `http_req_duration{class:edit-high}`. */
  name: string;
  /** Its share: weights are relative (they need not sum to 1). */
  weight: number;
  endpoint: (typeof MIX_ENDPOINTS)[number];
  /** Default: the run's model (`--model`, `MODEL`, the profile's default). */
  model?: string;
  quality: (typeof MIX_QUALITIES)[number];
  /** `WxH`, or `auto`. */
  size: string;
  n: number;
  format: (typeof MIX_FORMATS)[number];
  /** Server-sent events, with `partialImages` previews before the final image (0–3). */
  stream?: boolean;
  partialImages?: number;
  /** An edit's reference images (edits only, required there). */
  inputImages?: MixInputImages;
  /**
   * The gateway priority its requests go at (default `normal`). A gateway takes a priority
   * from the client's key, so a class is sent with its priority's key (`apiKeyFor`); the
   * simulator hands it to the limiter.
   */
  priority?: MixPriority;
}

export interface RequestMix {
  name: string;
  description: string;
  classes: RequestClass[];
  /**
   * Which class each arrival of the run sends, in order (indices into `classes`), instead of
   * a draw by weight: a trace's replay sends its requests' classes line by line. Arrival i
   * (k6's `exec.scenario.iterationInTest`) sends `classes[sequence[i % sequence.length]]`.
   */
  sequence?: number[];
}

/**
 * The built-in mixes. `single` is what every run sent before mixes (one cheap shape, so a
 * load is about rates, not bytes) and stays what runs send unless given `--mix`: the
 * scenarios' capacities and the README's figures were measured with it.
 */
export const MIXES: Record<string, RequestMix> = {
  single: {
    name: 'single',
    description: 'one shape: low quality, size auto (the model\'s default, 1024x1024 on gpt-image-1.5), webp, one image, no stream',
    classes: [{ name: 'gen-low', weight: 1, endpoint: 'generations', quality: 'low', size: 'auto', n: 1, format: 'webp' }],
  },
  default: {
    name: 'default',
    description:
      'an app in production: mostly medium square generations, streamed low-quality previews, some high-quality portraits, and edits of uploaded photos (one 1024x1024 reference, or three 512x512)',
    classes: [
      { name: 'gen-medium', weight: 45, endpoint: 'generations', quality: 'medium', size: '1024x1024', n: 1, format: 'png' },
      { name: 'gen-preview', weight: 20, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 1, format: 'webp', stream: true, partialImages: 2 },
      { name: 'gen-high', weight: 10, endpoint: 'generations', quality: 'high', size: '1024x1536', n: 1, format: 'png' },
      { name: 'edit-medium', weight: 20, endpoint: 'edits', quality: 'medium', size: '1024x1024', n: 1, format: 'png', inputImages: { count: 1, width: 1024, height: 1024 } },
      { name: 'edit-high', weight: 5, endpoint: 'edits', quality: 'high', size: '1536x1024', n: 1, format: 'png', inputImages: { count: 3, width: 512, height: 512 } },
    ],
  },
  edits: {
    name: 'edits',
    description: 'a photo editor: edits with one to four references, half at high quality',
    classes: [
      { name: 'edit-one', weight: 50, endpoint: 'edits', quality: 'medium', size: '1024x1024', n: 1, format: 'png', inputImages: { count: 1, width: 1024, height: 1024 } },
      { name: 'edit-high', weight: 35, endpoint: 'edits', quality: 'high', size: '1024x1024', n: 1, format: 'png', inputImages: { count: 2, width: 1024, height: 1024 } },
      { name: 'edit-collage', weight: 15, endpoint: 'edits', quality: 'high', size: '1536x1024', n: 1, format: 'png', inputImages: { count: 4, width: 512, height: 512 } },
    ],
  },
  previews: {
    name: 'previews',
    description: 'a chat app: streamed generations with partial previews, a few of them in fours',
    classes: [
      { name: 'stream-low', weight: 60, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 1, format: 'webp', stream: true, partialImages: 2 },
      { name: 'stream-medium', weight: 30, endpoint: 'generations', quality: 'medium', size: '1024x1024', n: 1, format: 'webp', stream: true, partialImages: 3 },
      { name: 'batch-four', weight: 10, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 4, format: 'webp' },
    ],
  },
  priorities: {
    name: 'priorities',
    description:
      'a product with a paid and a free plan behind one account: paying users\' streamed previews and edits at high priority, their generations at normal, the free plan\'s at low',
    classes: [
      { name: 'paid-preview', weight: 30, endpoint: 'generations', quality: 'low', size: '1024x1024', n: 1, format: 'webp', stream: true, partialImages: 2, priority: 'high' },
      { name: 'paid-edit', weight: 10, endpoint: 'edits', quality: 'medium', size: '1024x1024', n: 1, format: 'png', inputImages: { count: 1, width: 1024, height: 1024 }, priority: 'high' },
      { name: 'paid-medium', weight: 30, endpoint: 'generations', quality: 'medium', size: '1024x1024', n: 1, format: 'png' },
      { name: 'free-medium', weight: 30, endpoint: 'generations', quality: 'medium', size: '1024x1024', n: 1, format: 'png', priority: 'low' },
    ],
  },
};

export const DEFAULT_MIX = 'single';

/** The key a gateway in dev mode (no clients configured) takes for `normal`; `sk-ratelab-dev-<priority>` for the others. */
export const DEV_KEY = 'sk-ratelab-dev';

/** The keys a run sends: the run's own (`API_KEY`), and one per priority where given (`API_KEY_HIGH`, ...). */
export interface RunKeys {
  key: string;
  byPriority?: Partial<Record<MixPriority, string>>;
}

/**
 * The key class `c`'s requests carry: its priority's own key when given; else, with the dev
 * key, the dev client of that priority; else the run's key (the client's own priority).
 * A run whose mix names priorities without keys for them is refused before it starts
 * (`missingPriorityKeys`), so the last case serves only classes of the client's priority.
 */
export function apiKeyFor(c: RequestClass, keys: RunKeys): string {
  const p = c.priority ?? 'normal';
  const own = keys.byPriority?.[p];
  if (own) return own;
  if (keys.key === DEV_KEY && p !== 'normal') return `${DEV_KEY}-${p}`;
  return keys.key;
}

/** `API_KEY_CRITICAL`, `API_KEY_HIGH`, `API_KEY_NORMAL`, `API_KEY_LOW`: the keys of the clients of each priority, as k6 and the CLI read them. */
export function priorityKeysOf(env: Record<string, string | undefined>): Partial<Record<MixPriority, string>> {
  const keys: Partial<Record<MixPriority, string>> = {};
  for (const p of MIX_PRIORITIES) {
    const key = env[`API_KEY_${p.toUpperCase()}`];
    if (key) keys[p] = key;
  }
  return keys;
}

/** Priorities the mix sends that `keys` has no client for: a key that is neither the dev key nor given for that priority. */
export function missingPriorityKeys(mix: RequestMix, keys: RunKeys): MixPriority[] {
  if (keys.key === DEV_KEY) return [];
  const used = new Set(mix.classes.map((c) => c.priority).filter((p): p is MixPriority => p !== undefined && p !== 'normal'));
  return MIX_PRIORITIES.filter((p) => used.has(p) && !keys.byPriority?.[p]);
}

/** An integer hash of (vu, iteration): the same iteration picks the same class in every runtime. */
function mixHash(vu: number, iteration: number): number {
  let h = Math.imul(vu ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iteration + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The class iteration `iteration` of VU `vu` sends: drawn by weight from a hash of the two,
 * so k6, the engine and the simulator send the same class for the same iteration, and a
 * mix's shares hold over any run of a few hundred iterations. A mix with a `sequence` sends
 * the class its `inTest`-th place names (the scenario's iteration number across VUs).
 */
export function pickClass(mix: RequestMix, vu: number, iteration: number, inTest?: number): RequestClass {
  const classes = mix.classes;
  if (classes.length === 1) return classes[0]!;
  const sequence = mix.sequence;
  if (sequence && sequence.length > 0 && inTest !== undefined) return classes[sequence[inTest % sequence.length]!]!;
  let total = 0;
  for (const c of classes) total += c.weight;
  let u = (mixHash(vu, iteration) / 2 ** 32) * total;
  for (const c of classes) {
    u -= c.weight;
    if (u < 0) return c;
  }
  return classes[classes.length - 1]!;
}

/** The request's fields but its input images (JSON for generations; the form's text fields for edits). */
export function classFields(c: RequestClass, vu: number, iteration: number, model: string): Record<string, unknown> {
  const fields: Record<string, unknown> = { model: c.model ?? model, prompt: `ratelab load test ${vu}-${iteration}`, quality: c.quality, output_format: c.format };
  if (c.size !== 'auto') fields.size = c.size;
  if (c.n !== 1) fields.n = c.n;
  if (c.stream) {
    fields.stream = true;
    fields.partial_images = c.partialImages ?? 0;
  }
  return fields;
}

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, from: number, to: number): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The bytes of `inputImagePng(width, height)`: signature, IHDR, one IDAT of stored blocks, IEND. */
export function inputImageBytes(width: number, height: number): number {
  const raw = (1 + 3 * width) * height;
  return 8 + 25 + (12 + 2 + raw + 5 * Math.ceil(raw / 65535) + 4) + 12;
}

const PNGS = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * A valid `width`×`height` RGB PNG (a grey gradient, zlib's stored blocks: no compressor
 * needed, so k6 can make it too), made once per size. An edit's reference must be a real
 * image: the mock and the gateway read its header, the real API decodes it.
 */
export function inputImagePng(width: number, height: number): Uint8Array<ArrayBuffer> {
  const key = `${width}x${height}`;
  const cached = PNGS.get(key);
  if (cached) return cached;
  const row = 1 + 3 * width;
  const raw = row * height;
  const png = new Uint8Array(inputImageBytes(width, height));
  const idatLength = png.length - 8 - 25 - 12 - 12;
  const view = new DataView(png.buffer);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  let at = 8;
  const chunk = (type: string, length: number, fill: (start: number) => void): void => {
    view.setUint32(at, length);
    for (let i = 0; i < 4; i++) png[at + 4 + i] = type.charCodeAt(i);
    fill(at + 8);
    view.setUint32(at + 8 + length, crc32(png, at + 4, at + 8 + length));
    at += 12 + length;
  };
  chunk('IHDR', 13, (s) => {
    view.setUint32(s, width);
    view.setUint32(s + 4, height);
    png.set([8, 2, 0, 0, 0], s + 8);
  });
  chunk('IDAT', idatLength, (s) => {
    png[s] = 0x78;
    png[s + 1] = 0x01;
    let out = s + 2;
    let a = 1;
    let b = 0;
    let left = raw;
    let pos = 0;
    while (left > 0) {
      const len = Math.min(65535, left);
      png[out] = len === left ? 1 : 0;
      view.setUint16(out + 1, len, true);
      view.setUint16(out + 3, ~len & 0xffff, true);
      out += 5;
      for (let i = 0; i < len; i++, pos++) {
        const x = pos % row;
        // Filter byte 0 at each row's start, then a gradient by column and row.
        const v = x === 0 ? 0 : ((x + Math.floor(pos / row)) * 7) & 0xff;
        png[out++] = v;
        a = (a + v) % 65521;
        b = (b + a) % 65521;
      }
      left -= len;
    }
    view.setUint32(out, ((b << 16) | a) >>> 0);
  });
  chunk('IEND', 0, () => undefined);
  PNGS.set(key, png);
  return png;
}

/** ASCII text as bytes (a class's fields are ASCII): k6 has no TextEncoder. */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** An edit's multipart body. */
export interface EditBody {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * An edit as multipart/form-data: the text fields, then each reference as an `image[]`
 * file, as the openai SDK's `images.edit` sends them. Built as bytes here rather than by
 * each runtime's form helper: k6's object form cannot repeat a key, and one encoder means
 * k6 and the engine send the same bytes.
 */
export function editBody(c: RequestClass, vu: number, iteration: number, model: string): EditBody {
  const boundary = `ratelab-${vu}-${iteration}-boundary`;
  const parts: Uint8Array[] = [];
  for (const [key, value] of Object.entries(classFields(c, vu, iteration, model))) {
    parts.push(ascii(`--${boundary}\r\ncontent-disposition: form-data; name="${key}"\r\n\r\n${String(value)}\r\n`));
  }
  const images = c.inputImages;
  if (images) {
    const png = inputImagePng(images.width, images.height);
    for (let i = 0; i < images.count; i++) {
      parts.push(ascii(`--${boundary}\r\ncontent-disposition: form-data; name="image[]"; filename="reference-${i + 1}.png"\r\ncontent-type: image/png\r\n\r\n`), png, ascii('\r\n'));
    }
  }
  parts.push(ascii(`--${boundary}--\r\n`));
  let length = 0;
  for (const p of parts) length += p.length;
  const body = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
