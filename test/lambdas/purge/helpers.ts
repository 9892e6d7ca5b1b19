/** Hand-driven timers and a recording sleep, so coalescing windows and back-off are tested without waiting. */
import type { ManualClock } from "../../support/manual-clock";
import { ManualTimers } from "../../support/manual-timers";

/** Manual timers (test/support/manual-timers.ts) that also tell which delays are still pending. */
export class RecordingTimers extends ManualTimers {
  readonly #delays = new Map<unknown, number>();

  override setTimeout(callback: () => void, ms: number): unknown {
    const handle = super.setTimeout(() => {
      this.#delays.delete(handle);
      callback();
    }, ms);
    this.#delays.set(handle, ms);
    return handle;
  }

  override clearTimeout(handle: unknown): void {
    this.#delays.delete(handle);
    super.clearTimeout(handle);
  }

  /** Delays of the timers not yet fired or cleared, in order of setting. */
  get scheduled(): number[] {
    return [...this.#delays.values()];
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
