/**
 * Work one request starts and others wait for (the invalidation-log read, a
 * single-flight load), shared so that no waiting request ever awaits another
 * request's promise; and the byte budget the maps of such work are held to.
 */
import { TimeoutError, type Timers } from "../time/clock";
import { type MemoryUsage, OBJECT_BYTES, SLOT_BYTES, stringBytes } from "./memory-usage";

/** How a piece of work settled. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Work one request started that others may wait for; `outcome` is set once it settles. */
export interface Shared<T> {
  readonly promise: Promise<T>;
  outcome?: Outcome<T>;
}

/** How far past the shared work's own timeouts a waiting request gives up on it. */
export const SHARED_WAIT_MARGIN_MS = 100;
/** Waiting requests look again after 1, 2, 4 … ms, at most this far apart. */
const SHARED_POLL_MAX_MS = 4;

export function share<T, Extra extends object = object>(
  promise: Promise<T>,
  extra?: Extra,
): Shared<T> & Extra {
  const shared = { ...extra, promise } as Shared<T> & Extra;
  promise.then(
    (value) => {
      shared.outcome = { ok: true, value };
    },
    (error: unknown) => {
      shared.outcome = { ok: false, error };
    },
  );
  return shared;
}

function giveUpAfterMs(workLimitMs: number): number {
  return workLimitMs + SHARED_WAIT_MARGIN_MS;
}

/**
 * Waits for work another request started (the log read, a single-flight load) by looking at
 * its outcome on timers of this request's own, never by awaiting the other request's promise.
 * In workerd, code awaiting a promise another request resolves may resume in that request's
 * I/O context: its Response then fails with "Cannot perform I/O on behalf of a different
 * request", or the request is cancelled as hung once the other one has finished (before this,
 * 31 of 25,000 answers of `npm run bench`'s mix failed so). Resolves with the outcome, or
 * undefined once the work has overrun its own limits (`workLimitMs`) by a margin.
 */
export async function waitInOwnContext<T>(
  shared: Shared<T>,
  workLimitMs: number,
  timers: Timers,
): Promise<Outcome<T> | undefined> {
  const limitMs = giveUpAfterMs(workLimitMs);
  // Time waited is summed from the timers, not read from the clock: tests move an injected clock.
  let waited = 0;
  let delay = 1;
  while (!shared.outcome) {
    if (waited > limitMs) return undefined;
    await new Promise<void>((resolve) => timers.setTimeout(resolve, delay));
    waited += delay;
    delay = Math.min(delay * 2, SHARED_POLL_MAX_MS);
  }
  return shared.outcome;
}

/** Default budget of each pending-work map of one engine: about 4,000 keys of 60 characters. */
export const DEFAULT_PENDING_WORK_MAX_BYTES = 1024 * 1024;

/**
 * Bytes of the maps that hold work in flight by key (single-flight loads, background
 * refreshes). Keys come from requests, so many concurrent distinct ones could grow these
 * maps without end; past the budget new work still runs, only unshared (not entered in a map).
 */
export class PendingWorkBudget {
  private entries = 0;
  private bytes = 0;
  private refusedCount = 0;

  constructor(readonly maxBytes: number = DEFAULT_PENDING_WORK_MAX_BYTES) {}

  /** One key in a map of pending work: the key, its slot and the shared record with its promise. */
  static costOf(key: string): number {
    return stringBytes(key) + SLOT_BYTES + 2 * OBJECT_BYTES;
  }

  /** Takes room for `key`; false (counted as refused) when the budget has none left. */
  tryReserve(key: string): boolean {
    const cost = PendingWorkBudget.costOf(key);
    if (this.bytes + cost > this.maxBytes) {
      this.refusedCount += 1;
      return false;
    }
    this.bytes += cost;
    this.entries += 1;
    return true;
  }

  release(key: string): void {
    this.bytes -= PendingWorkBudget.costOf(key);
    this.entries -= 1;
  }

  get usage(): MemoryUsage & { readonly refused: number } {
    return { entries: this.entries, bytes: this.bytes, maxBytes: this.maxBytes, refused: this.refusedCount };
  }
}

/**
 * One load per key at a time in this isolate: the first request for a key leads it, later
 * ones follow it in their own context (above). `Meta` is what the leader recorded when it
 * started, for the caller to decide whether a later request may still join.
 */
export class SingleFlight<T, Meta extends object> {
  private readonly flights = new Map<string, Shared<T> & Meta>();

  /**
   * `workLimitMs`: the longest one load can take by its own timeouts; `budget`: what the map
   * of flights may hold (a load past it runs unshared).
   */
  constructor(
    private readonly timers: Timers,
    private readonly workLimitMs: number,
    private readonly budget: PendingWorkBudget = new PendingWorkBudget(),
  ) {}

  /** Joins the load under way for `key` when `canJoin` accepts it, or starts a new one with `start`. */
  joinOrStart(
    key: string,
    canJoin: (flight: Meta) => boolean,
    start: () => { readonly work: Promise<T>; readonly meta: Meta },
  ): { readonly flight: Shared<T> & Meta; readonly leader: boolean } {
    const current = this.flights.get(key);
    if (current && canJoin(current)) return { flight: current, leader: false };
    // A flight that replaces one for the same key takes over its room.
    const entered = current !== undefined || this.budget.tryReserve(key);
    const { work, meta } = start();
    if (!entered) return { flight: share(work, meta), leader: true };
    const flight = share(
      work.finally(() => this.drop(key, flight)),
      meta,
    );
    this.flights.set(key, flight);
    return { flight, leader: true };
  }

  /** What a follower gets: the leader's answer, or a timeout past the load's own limits. */
  async follow(key: string, flight: Shared<T>): Promise<T> {
    const outcome = await waitInOwnContext(flight, this.workLimitMs, this.timers);
    if (!outcome) {
      // A load that never settled (its request was cancelled) must not hold later requests.
      this.drop(key, flight);
      throw new TimeoutError(
        `the shared load of ${key} did not settle within ${giveUpAfterMs(this.workLimitMs)} ms`,
      );
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  private drop(key: string, flight: Shared<T>): void {
    if (this.flights.get(key) !== flight) return;
    this.flights.delete(key);
    this.budget.release(key);
  }
}
