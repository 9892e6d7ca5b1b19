/**
 * The one way the engine calls Redis (the log read, the L2 get, the L2 fill): through
 * the circuit breaker, bounded by the hard timeout, counted, and with failures logged.
 * A call never rejects; it settles with its outcome, so a failing Redis can only ever
 * make a read fall through to the next tier.
 */
import { type Clock, TimeoutError, type Timers } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker";
import type { Outcome } from "./shared-work";

export interface L2GuardOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Pick<Console, "warn">;
  /** No Redis call is waited on longer than this. */
  readonly hardTimeoutMs: number;
  readonly breaker?: { readonly failureThreshold: number; readonly cooldownMs: number };
  readonly counters: Pick<TieredCacheStats, "redisCommands" | "redisErrors">;
  /** Told of every failed call (no answer in time, or an error), e.g. to show the last one to operators. */
  readonly onFailure?: (what: string, error: unknown) => void;
}

const DEFAULT_BREAKER = { failureThreshold: 3, cooldownMs: 5_000 };

export class L2Guard {
  readonly hardTimeoutMs: number;
  private readonly breaker: CircuitBreaker;

  constructor(private readonly options: L2GuardOptions) {
    this.hardTimeoutMs = options.hardTimeoutMs;
    this.breaker = new CircuitBreaker(options.clock, options.breaker ?? DEFAULT_BREAKER);
  }

  get circuit(): CircuitState {
    return this.breaker.state;
  }

  /**
   * Sends `command` when the breaker lets a call out now, and settles with its outcome;
   * undefined, decided at once, when the circuit refuses it. Callers that keep state about
   * an attempt (the log sync's interval) must know synchronously whether one went out.
   * `what` names the call in its timeout error.
   */
  tryCall<T>(what: string, command: () => Promise<T>): Promise<Outcome<T>> | undefined {
    if (!this.breaker.allow()) return undefined;
    this.options.counters.redisCommands += 1;
    const { timers } = this.options;
    // One promise per call, settled by the answer or the timer, whichever comes first: this runs
    // on every L2 hit, where each extra promise and wrapper shows in the throughput.
    return new Promise<Outcome<T>>((resolve) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(handle);
        this.options.counters.redisErrors += 1;
        this.breaker.failure();
        // A timeout is expected trouble (a slow Redis), not a fault to log.
        if (!(error instanceof TimeoutError)) this.options.logger.warn("Redis call failed", error);
        this.options.onFailure?.(what, error);
        resolve({ ok: false, error });
      };
      const handle = timers.setTimeout(
        () => fail(new TimeoutError(`${what} took longer than ${this.hardTimeoutMs} ms`)),
        this.hardTimeoutMs,
      );
      let work: Promise<T>;
      try {
        work = command();
      } catch (error) {
        // A store that throws before returning its promise fails like one whose promise rejects.
        fail(error);
        return;
      }
      work.then((value) => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(handle);
        this.breaker.success();
        resolve({ ok: true, value });
      }, fail);
    });
  }
}
