import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { ImageRequest } from '../openai/request.ts';

export type CacheResult = 'hit' | 'coalesced' | 'miss' | 'bypass';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * Identical normalized requests (model, prompt, size, quality, background, format,
 * compression, n) within `ttlMs` get the stored answer; identical requests in flight at the
 * same time share one upstream call. Only successes are stored. Bounded: oldest out first.
 */
export class ResultCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  static key(r: ImageRequest): string {
    const normal = [r.model, r.prompt, r.size, r.quality, r.background, r.format, r.compression ?? '', r.n];
    return createHash('sha256').update(JSON.stringify(normal)).digest('hex');
  }

  /** Answers from the cache, joins an identical call in flight, or runs `produce`. */
  async run(key: string, produce: () => Promise<T>, storable: (value: T) => boolean): Promise<{ value: T; result: CacheResult }> {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return { value: entry.value, result: 'hit' };
    if (entry) this.entries.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return { value: await pending, result: 'coalesced' };
    const call = produce();
    this.inFlight.set(key, call);
    try {
      const value = await call;
      if (storable(value)) this.store(key, value);
      return { value, result: 'miss' };
    } finally {
      this.inFlight.delete(key);
    }
  }

  private store(key: string, value: T): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: this.clock.now() + this.ttlMs });
  }
}
