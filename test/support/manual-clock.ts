/**
 * A clock tests move by hand (it satisfies core/time/clock.ts `Clock`), so freshness,
 * TTL and circuit-breaker logic is tested without sleeping.
 */
export class ManualClock {
  #ms: number;

  constructor(startMs = 1_000_000) {
    this.#ms = startMs;
  }

  readonly now = (): number => this.#ms;

  /** Moves forward by `ms` and returns the new time. */
  advance(ms: number): number {
    if (ms < 0) throw new RangeError("a manual clock only moves forward");
    this.#ms += ms;
    return this.#ms;
  }

  /** Jumps to `ms` (not earlier than now) and returns it. */
  set(ms: number): number {
    if (ms < this.#ms) throw new RangeError(`a manual clock only moves forward (${ms} < ${this.#ms})`);
    this.#ms = ms;
    return this.#ms;
  }
}
