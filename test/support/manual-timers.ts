/**
 * Timers (core/time/clock.ts `Timers`) on a manual clock: nothing fires until the test
 * moves the clock past it, so timeouts and polling are tested without waiting.
 */
import type { Timers } from "../../core/time/clock";
import { ManualClock } from "./manual-clock";

export class ManualTimers implements Timers {
  readonly clock: ManualClock;
  #next = 1;
  readonly #pending = new Map<number, { callback: () => void; dueAt: number }>();

  constructor(clock: ManualClock = new ManualClock()) {
    this.clock = clock;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.#pending.set(handle, { callback, dueAt: this.clock.now() + ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** How many timers are set and not yet fired or cleared. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Moves the clock on by `ms` and fires the timers that are then due, earliest first. */
  advance(ms: number): void {
    const now = this.clock.advance(ms);
    const due = [...this.#pending.entries()]
      .filter(([, timer]) => timer.dueAt <= now)
      .sort(([a, first], [b, second]) => first.dueAt - second.dueAt || a - b);
    for (const [handle, timer] of due) {
      // An earlier callback may have cleared it.
      if (!this.#pending.delete(handle)) continue;
      timer.callback();
    }
  }

  /**
   * Moves the clock on 1 ms at a time, letting promise callbacks run after each step, until
   * `done()` holds or `limitMs` have passed; returns the milliseconds moved. For code that sets
   * its next timer only after the previous one has fired (a polling loop).
   */
  async step(done: () => boolean, limitMs: number): Promise<number> {
    let moved = 0;
    await settlePromises();
    while (!done() && moved < limitMs) {
      this.advance(1);
      moved += 1;
      await settlePromises();
    }
    return moved;
  }
}

/** Lets every queued promise callback run (one macrotask turn; no time passes on any clock). */
export function settlePromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
