/** Hand-driven timers and a recording sleep, so coalescing windows and back-off are tested without waiting. */
import type { Timers } from "../../../core/time/clock";
import type { ManualClock } from "../../support/manual-clock";

export class ManualTimers implements Timers {
  #next = 1;
  readonly #pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.#pending.set(handle, { callback, ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Delays of the timers not yet fired, in order of setting. */
  get scheduled(): number[] {
    return [...this.#pending.values()].map((timer) => timer.ms);
  }

  /** Fires every pending timer. */
  fireAll(): void {
    const due = [...this.#pending.values()];
    this.#pending.clear();
    for (const timer of due) timer.callback();
  }
}

/** A sleep that returns at once, records each delay, advances `clock` by it and runs `onSleep`. */
export function recordingSleep(clock?: ManualClock, onSleep?: (ms: number, call: number) => void) {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
    clock?.advance(ms);
    onSleep?.(ms, delays.length);
  };
  return { sleep, delays };
}
