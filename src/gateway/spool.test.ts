import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
async function fill(spool: Spool, chunks: Buffer[]): Promise<void> {
  await pipeline(Readable.from(chunks), spool);
}

describe('Spool', () => {
  it('keeps a small upload in memory, as its chunks, and frees them on dispose', async () => {
    const spool = new Spool({ memoryPerRequest: 1000, memoryTotal: 10_000 }, 1_000_000);
    const chunks = [bytes(300, 1), bytes(300, 2)];
    await fill(spool, chunks);
    const held = await spool.result();
    expect(held).toEqual({ chunks, size: 600 });
    await spool.dispose();
    // The array handed out is emptied too, so nothing that kept the body keeps its bytes.
    expect((held as { chunks: readonly Buffer[] }).chunks).toHaveLength(0);
  });

  it('moves to a file past the per-request size, byte for byte, and removes it on dispose', async () => {
    const spool = new Spool({ memoryPerRequest: 500, memoryTotal: 10_000 }, 1_000_000);
    const chunks = [bytes(300, 1), bytes(300, 2), bytes(300, 3)];
    await fill(spool, chunks);
    const held = await spool.result();
    if (!('file' in held)) throw new Error('expected a file');
    expect(held.file.size).toBe(900);
    expect(readFileSync(held.file.path).equals(Buffer.concat(chunks))).toBe(true);
    await spool.dispose();
    expect(existsSync(held.file.path)).toBe(false);
  });

  it('shares one memory budget across uploads', async () => {
    const limits = { memoryPerRequest: 1000, memoryTotal: 800 };
    const first = new Spool(limits, 1_000_000);
    await fill(first, [bytes(600, 1)]);
    const second = new Spool(limits, 1_000_000);
    await fill(second, [bytes(600, 2)]);
    expect('chunks' in (await first.result())).toBe(true);
    expect('file' in (await second.result())).toBe(true);
    await first.dispose();
    const third = new Spool(limits, 1_000_000);
    await fill(third, [bytes(600, 3)]);
    expect('chunks' in (await third.result())).toBe(true);
    await Promise.all([second.dispose(), third.dispose()]);
  });

  it('keeps nothing past its size limit (the request gets 413), but still takes the rest', async () => {
    const spool = new Spool({ memoryPerRequest: 10_000, memoryTotal: 10_000 }, 500);
    await fill(spool, [bytes(400, 1), bytes(400, 2), bytes(400, 3)]);
    const held = await spool.result();
    expect(held).toMatchObject({ size: 1200 });
    expect((held as { chunks: readonly Buffer[] }).chunks).toHaveLength(1);
    await spool.dispose();
  });
});
