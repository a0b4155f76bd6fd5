import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/virtual-clock.ts';
import { startMockServer } from '../mock-server/http-server.ts';
import { MockModel } from '../mock-server/model/model.ts';
import { mockOpenAI } from '../mock-server/msw.ts';

const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

interface Seen {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Drives a virtual clock while a real request is in flight (the server needs real I/O too). */
async function drive(clock: VirtualClock, request: Promise<Response>): Promise<Seen> {
  let done = false;
  const settled = request.then(async (r) => {
    const body = await r.text();
    done = true;
    const headers: Record<string, string> = {};
    r.headers.forEach((value, name) => {
      if (!TRANSPORT.has(name)) headers[name] = value;
    });
    return { status: r.status, headers, body };
  });
  const deadline = Date.now() + 10_000;
  while (!done && Date.now() < deadline) {
    const next = clock.nextTimerAt();
    if (next !== undefined) await clock.advanceTo(next);
    else await new Promise((r) => setTimeout(r, 1));
  }
  return settled;
}

/** One scripted session: limits, a refill, bad input, the tier gate, random faults, mixed requests. */
async function session(base: string, clock: VirtualClock): Promise<Seen[]> {
  const seen: Seen[] = [];
  const send = async (body: unknown, key = 'sk-tier1-det', path = '/v1/images/generations', method = 'POST') => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
    if (method !== 'GET') init.body = typeof body === 'string' ? body : JSON.stringify(body);
    seen.push(await drive(clock, fetch(`${base}${path}`, init)));
  };
  await send({ prompt: 'five at once', quality: 'low', n: 5 });
  await send({ prompt: 'five more', quality: 'low', n: 5 });
  await clock.advance(60_000);
  await send({ prompt: 'after the refill', quality: 'high', size: '1536x1024' });
  await send('{"prompt": oops');
  await send({ prompt: 'free tier' }, 'sk-tier0-det');
  await send({ kind: 'error', rate: 0.5, duration: '10m' }, 'admin', '/__admin/faults');
  for (let i = 0; i < 12; i++) await send({ prompt: `faulty ${i}`, quality: (['low', 'medium', 'high'] as const)[i % 3], n: 1 + (i % 2) }, 'sk-tier5-det');
  await send(undefined, 'admin', '/__admin/stats', 'GET');
  return seen;
}

const profile = 'openai';
const build = (clock: VirtualClock, seed: number) => new MockModel({ profile, clock, seed });

describe('one core, two adapters', () => {
  let msw: ReturnType<typeof setupServer>;
  const mswClock = new VirtualClock();
  const mswModel = build(mswClock, 42);
  beforeAll(async () => {
    await mswModel.ready();
    msw = setupServer(...mockOpenAI(profile, { model: mswModel }));
    msw.listen({ onUnhandledRequest: 'bypass' });
  });
  afterAll(() => msw.close());

  it('a seeded run gives identical outcomes through msw in-process and over HTTP', async () => {
    const viaMsw = await session('https://api.openai.com', mswClock);
    const httpClock = new VirtualClock();
    const server = await startMockServer({ model: build(httpClock, 42) });
    try {
      const viaHttp = await session(server.url, httpClock);
      expect(viaHttp).toEqual(viaMsw);
      const statuses = viaHttp.map((s) => s.status);
      expect(statuses.slice(0, 6)).toEqual([200, 429, 200, 400, 403, 201]);
      expect(statuses.slice(6, 18)).toContain(500);
      expect(statuses.slice(6, 18)).toContain(200);
    } finally {
      await server.close();
    }
  });

  it('another seed draws other outcomes', async () => {
    const a = new VirtualClock();
    const b = new VirtualClock();
    const first = await startMockServer({ model: build(a, 1) });
    const second = await startMockServer({ model: build(b, 2) });
    try {
      const [one, two] = [await session(first.url, a), await session(second.url, b)];
      expect(one.map((s) => s.headers['openai-processing-ms'])).not.toEqual(two.map((s) => s.headers['openai-processing-ms']));
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
