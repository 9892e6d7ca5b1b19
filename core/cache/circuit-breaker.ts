import type { Clock } from "../time/clock";

export type CircuitState = "closed" | "open" | "half-open";

/**
 * Stops calling a failing dependency (Redis) for a cool-down, then lets one probe
 * through: a request must not wait on a dependency that is known to be down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = "closed";

  constructor(
    private readonly clock: Clock,
    private readonly options: { failureThreshold: number; cooldownMs: number },
  ) {}

  get state(): CircuitState {
    if (this.current === "open" && this.clock.now() - this.openedAt >= this.options.cooldownMs) {
      this.current = "half-open";
      this.probing = false;
    }
    return this.current;
  }

  /** True when a call may go out now (in half-open, only the one probe). */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "half-open" && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.current = "closed";
  }

  failure(): void {
    this.failures += 1;
    this.probing = false;
    if (this.current === "half-open" || this.failures >= this.options.failureThreshold) {
      this.current = "open";
      this.openedAt = this.clock.now();
    }
  }
}
