/**
 * An origin that misbehaves on cue: a wrapper around the origin fetch the engine uses
 * (TieredCacheOptions.fetchOrigin), in front of a real one (the sample origin's app, served in
 * process). States:
 *   up      every fetch goes through;
 *   down    every fetch rejects as a refused connection does (a TypeError, as fetch throws);
 *   slow    every answer takes `delayMs` more on the injected timers to arrive (read at the origin
 *           when asked, as a slow link delivers it; the engine's signal still aborts the wait);
 *   status  every fetch answers `status` (a 5xx) without reaching the origin.
 */
import type { Timers } from "../../../core/time/clock";
import type { BusySource } from "./virtual-time";

export type OriginCondition =
  | { readonly state: "up" }
  | { readonly state: "down" }
  | { readonly state: "slow"; readonly delayMs: number }
  | { readonly state: "status"; readonly status: number };

export type OriginFetch = (path: string, signal: AbortSignal) => Promise<Response>;

export class ChaosOrigin implements BusySource {
  readonly name = "origin (chaos)";
  /** Fetches asked for, and of those, answered by a fault. */
  readonly counts = { fetches: 0, refused: 0 };
  #condition: OriginCondition = { state: "up" };
  #running = 0;
  #parked = 0;

  constructor(
    private readonly inner: OriginFetch,
    private readonly timers: Timers,
  ) {}

  get condition(): OriginCondition {
    return this.#condition;
  }

  busy(): boolean {
    return this.#running > this.#parked;
  }

  up(): void {
    this.#condition = { state: "up" };
  }

  down(): void {
    this.#condition = { state: "down" };
  }

  slow(delayMs: number): void {
    this.#condition = { state: "slow", delayMs };
  }

  answer(status: number): void {
    this.#condition = { state: "status", status };
  }

  readonly fetch: OriginFetch = async (path, signal) => {
    this.counts.fetches += 1;
    this.#running += 1;
    try {
      const condition = this.#condition;
      if (condition.state === "down") {
        this.counts.refused += 1;
        throw new TypeError("fetch failed (chaos: connect ECONNREFUSED)");
      }
      if (condition.state === "status") {
        this.counts.refused += 1;
        return new Response(JSON.stringify({ error: "chaos: origin failure" }), {
          status: condition.status,
          headers: { "content-type": "application/json" },
        });
      }
      const response = await this.inner(path, signal);
      if (condition.state === "slow") await this.#wait(condition.delayMs, signal);
      return response;
    } finally {
      this.#running -= 1;
    }
  };

  async #wait(ms: number, signal: AbortSignal): Promise<void> {
    this.#parked += 1;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const handle = this.timers.setTimeout(resolve, ms);
        signal.addEventListener(
          "abort",
          () => {
            this.timers.clearTimeout(handle);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    } finally {
      this.#parked -= 1;
    }
  }
}
