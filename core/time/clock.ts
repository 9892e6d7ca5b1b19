/** Time, injected so freshness logic is tested with a manual clock instead of sleeps. */
export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Timers, injected beside the clock (timeouts are the one place real waiting happens). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** Rejects with TimeoutError after `ms`; the work itself runs on (it cannot be cancelled). */
export function withTimeout<T>(work: Promise<T>, ms: number, timers: Timers, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handle = timers.setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
    work.then(
      (value) => {
        timers.clearTimeout(handle);
        resolve(value);
      },
      (error: unknown) => {
        timers.clearTimeout(handle);
        reject(error);
      },
    );
  });
}
