import { describe, expect, it } from 'vitest';
import { validateImageRequest } from '../openai/request.ts';
import { VirtualClock } from '../core/virtual-clock.ts';
import { ResultCache } from './result-cache.ts';

const request = (body: object) => validateImageRequest('application/json', new TextEncoder().encode(JSON.stringify(body)));

describe('ResultCache', () => {
  it('normalizes: defaults and explicit equal values share a key; any difference does not', () => {
    const a = ResultCache.key(request({ prompt: 'cat' }));
    expect(ResultCache.key(request({ prompt: 'cat', n: 1, size: '1024x1024', quality: 'medium', output_format: 'png' }))).toBe(a);
    expect(ResultCache.key(request({ prompt: 'cat', n: 2 }))).not.toBe(a);
    expect(ResultCache.key(request({ prompt: 'cat ' }))).not.toBe(a);
  });

  it('hits within the TTL, misses after it, and stores only what is storable', async () => {
    const clock = new VirtualClock(0);
    const cache = new ResultCache<number>(clock, 1000);
    let calls = 0;
    const produce = async () => ++calls;
    expect(await cache.run('k', produce, () => true)).toEqual({ value: 1, result: 'miss' });
    expect(await cache.run('k', produce, () => true)).toEqual({ value: 1, result: 'hit' });
    await clock.advance(1000);
    expect(await cache.run('k', produce, () => true)).toEqual({ value: 2, result: 'miss' });
    expect(await cache.run('x', produce, () => false)).toEqual({ value: 3, result: 'miss' });
    expect(await cache.run('x', produce, () => false)).toEqual({ value: 4, result: 'miss' });
  });

  it('coalesces identical calls in flight into one', async () => {
    const clock = new VirtualClock(0);
    const cache = new ResultCache<string>(clock, 1000);
    let calls = 0;
    const produce = async () => {
      calls++;
      await clock.sleep(100);
      return 'image';
    };
    const runs = [cache.run('k', produce, () => true), cache.run('k', produce, () => true), cache.run('k', produce, () => true)];
    await clock.advance(100);
    const results = await Promise.all(runs);
    expect(calls).toBe(1);
    expect(results.map((r) => r.result)).toEqual(['miss', 'coalesced', 'coalesced']);
  });

  it('stays bounded', async () => {
    const cache = new ResultCache<number>(new VirtualClock(0), 1000, 3);
    for (let i = 0; i < 10; i++) await cache.run(`k${i}`, async () => i, () => true);
    expect((await cache.run('k0', async () => -1, () => true)).result).toBe('miss');
    expect((await cache.run('k9', async () => -1, () => true)).result).toBe('hit');
  });
});
