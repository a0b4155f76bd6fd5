/**
 * The one clock. Everything that waits or measures time takes a `Clock`, so the same code
 * runs in real time (production, the HTTP mock) and on a virtual clock (unit tests, src/sim).
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch; may carry a fraction. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `fn` after `ms`. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Wall-clock time. `now()` uses the monotonic high-resolution timer anchored at process start. */
export class RealClock implements Clock {
  // `performance.timeOrigin` is a getter; read once, it is a constant.
  private readonly origin = performance.timeOrigin;

  now(): number {
    return this.origin + performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  }
}

export const realClock: Clock = new RealClock();
