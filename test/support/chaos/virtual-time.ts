/**
 * Virtual time for the chaos suite: a clock and timers (core/time/clock.ts) that only the test
 * moves, under code that still does real I/O in between (the Upstash client over HTTP to a real
 * bridge). Time jumps from one due timer to the next, and only once everything that can move
 * without it has: each part with real I/O says when it is busy (`watch`); Web Crypto jobs (the
 * engine's ETag digests run on the thread pool) are seen through async_hooks; and the jump waits
 * until nothing has been busy for QUIET_TURNS event-loop turns and QUIET_MS of wall time.
 *
 * So a Redis that stalls for ten minutes takes ten virtual minutes and a few wall milliseconds,
 * and every latency a test reads here is what the engine's own timeouts allowed.
 */
import { type AsyncHook, createHook } from "node:async_hooks";
import type { Timers } from "../../../core/time/clock";
import { ManualClock } from "../manual-clock";

/** Event-loop turns with nothing busy before time may move. */
const QUIET_TURNS = 8;
/** ...and at least this much wall time. */
const QUIET_MS = 2;
/** A part busy this long in wall time is stuck, not slow: fail instead of hanging the run. */
const STUCK_AFTER_MS = 15_000;

export interface BusySource {
  /** Named in the error when it never goes quiet. */
  readonly name: string;
  busy(): boolean;
}

interface PendingTimer {
  readonly callback: () => void;
  readonly dueAt: number;
}

export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Crypto jobs under way (async resources named `…REQUEST`: HASHREQUEST for a digest), from their
 * start to the end of their callback. The hook runs only while a VirtualTime is open: it slows
 * every promise down a little.
 */
class CryptoJobs implements BusySource {
  readonly name = "Web Crypto jobs";
  readonly #running = new Set<number>();
  readonly #hook: AsyncHook;

  constructor() {
    const running = this.#running;
    this.#hook = createHook({
      init(id, type) {
        if (type.endsWith("REQUEST")) running.add(id);
      },
      after(id) {
        running.delete(id);
      },
      destroy(id) {
        running.delete(id);
      },
    }).enable();
  }

  busy(): boolean {
    return this.#running.size > 0;
  }

  close(): void {
    this.#hook.disable();
    this.#running.clear();
  }
}

export class VirtualTime implements Timers {
  readonly clock: ManualClock;
  readonly #pending = new Map<number, PendingTimer>();
  readonly #crypto = new CryptoJobs();
  readonly #sources: BusySource[] = [this.#crypto];
  #next = 1;

  constructor(startMs = Date.parse("2026-11-05T12:00:00.000Z")) {
    this.clock = new ManualClock(startMs);
  }

  /** Stops watching crypto jobs (the hook is process-wide). */
  close(): void {
    this.#crypto.close();
  }

  readonly now = (): number => this.clock.now();

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.#pending.set(handle, { callback, dueAt: this.clock.now() + Math.max(0, ms) });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** A part whose real I/O time must wait for. */
  watch(source: BusySource): void {
    this.#sources.push(source);
  }

  /** A sleep on these timers, for code that takes one. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.setTimeout(resolve, ms);
    });

  /** Lets real I/O and promise callbacks run until nothing watched is busy (or `done` holds). */
  async quiesce(done: () => boolean = () => false): Promise<void> {
    const started = Date.now();
    let quietTurns = 0;
    let quietSince = Date.now();
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (done()) return;
      const busy = this.#sources.filter((source) => source.busy());
      if (busy.length > 0) {
        quietTurns = 0;
        quietSince = Date.now();
        if (Date.now() - started > STUCK_AFTER_MS)
          throw new Error(`virtual time: still busy after ${STUCK_AFTER_MS} ms: ${busy.map((s) => s.name)}`);
        continue;
      }
      quietTurns += 1;
      if (quietTurns >= QUIET_TURNS && Date.now() - quietSince >= QUIET_MS) return;
    }
  }

  /** Moves time on by `ms`, firing each timer due on the way (earliest first) once all is quiet. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.clock.now() + ms);
  }

  async advanceTo(at: number): Promise<void> {
    for (;;) {
      await this.quiesce();
      const next = this.#nextDue();
      if (next === undefined || next.dueAt > at) break;
      this.#fire(next.dueAt);
    }
    if (at > this.clock.now()) this.clock.set(at);
    await this.quiesce();
  }

  /**
   * Runs `work` to its end, jumping from timer to timer while it waits; returns how it settled
   * and the virtual milliseconds it took. Fails when it waits on nothing any timer will end, or
   * for longer than `limitMs`.
   */
  async run<T>(work: Promise<T>, limitMs = 60 * 60_000): Promise<Settled<T> & { readonly ms: number }> {
    const started = this.clock.now();
    let outcome: Settled<T> | undefined;
    work.then(
      (value) => {
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        outcome = { ok: false, error };
      },
    );
    // Read through a function: the callbacks above set it, which narrowing cannot see.
    const settled = (): Settled<T> | undefined => outcome;
    for (;;) {
      await this.quiesce(() => settled() !== undefined);
      const early = settled();
      if (early) return { ...early, ms: this.clock.now() - started };
      let next = this.#nextDue();
      // Nothing due: give work none of the watched parts sees a while before giving up.
      for (let wait = 0; !next && settled() === undefined && wait < 50; wait++) {
        await this.quiesce(() => settled() !== undefined);
        next = this.#nextDue();
      }
      const late = settled();
      if (late) return { ...late, ms: this.clock.now() - started };
      if (!next) throw new Error("virtual time: the work waits on nothing that a timer will end");
      if (next.dueAt - started > limitMs) throw new Error(`virtual time: the work took over ${limitMs} ms`);
      this.#fire(next.dueAt);
    }
  }

  #nextDue(): (PendingTimer & { handle: number }) | undefined {
    let found: (PendingTimer & { handle: number }) | undefined;
    for (const [handle, timer] of this.#pending)
      if (!found || timer.dueAt < found.dueAt) found = { ...timer, handle };
    return found;
  }

  /** Moves the clock to `at` and fires every timer due by then, earliest first. */
  #fire(at: number): void {
    if (at > this.clock.now()) this.clock.set(at);
    const due = [...this.#pending.entries()]
      .filter(([, timer]) => timer.dueAt <= at)
      .sort(([a, first], [b, second]) => first.dueAt - second.dueAt || a - b);
    for (const [handle, timer] of due) {
      if (!this.#pending.delete(handle)) continue;
      timer.callback();
    }
  }
}

/** Counts calls in flight, so a part can tell VirtualTime it is busy. */
export class InFlight {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.#count += 1;
    return work.finally(() => {
      this.#count -= 1;
    });
  }

  /**
   * `target` with each method that returns a promise counted while it runs (a wrapper around
   * the real object: the same calls, the same results).
   */
  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(object, args);
          return result instanceof Promise ? this.track(result) : result;
        };
      },
    });
  }
}
