/** Hand-driven timers that tell what is pending, so coalescing windows are tested without waiting. */
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

export { recordingSleep } from "../../support/recording-sleep";
