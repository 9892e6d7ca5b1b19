/** A sleep that never waits, for code that takes an injected `sleep` (back-off, simulated latency). */
import type { ManualClock } from "./manual-clock";

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
