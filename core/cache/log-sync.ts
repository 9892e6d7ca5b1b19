/**
 * The bounded-freshness sync of L1 against the invalidation log (docs/architecture.md "Freshness
 * protocol"): at most every `intervalMs`, one read of the log since the cursor, shared
 * by the requests that arrive meanwhile, applied to L1 before any of them reads it.
 *
 * The cursor is kept with the log's epoch (core/redis/read-log-script.ts): a read that finds
 * another log (Redis lost its data, a replica that was behind took over) clears L1 as a trimmed
 * log does, and is counted (`logResets`) and logged, since the events it lost are not
 * recoverable from the log and an operator should know.
 */
import type { Clock, Timers } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import type { L1Store } from "./l1-store";
import type { L2Guard } from "./l2-guard";
import type { L2Store, LogPosition, LogRead } from "./l2-store";
import { type Outcome, type Shared, share, waitInOwnContext } from "./shared-work";

export interface LogSyncOptions {
  readonly l2: Pick<L2Store, "readLog">;
  readonly l1: L1Store;
  readonly guard: L2Guard;
  readonly clock: Clock;
  readonly timers: Timers;
  /** The freshness promise: L1 reads the log at most this often. */
  readonly intervalMs: number;
  /** More entries than this since the cursor clears L1 instead. */
  readonly maxEntriesPerRead: number;
  readonly counters: Pick<TieredCacheStats, "syncs" | "logResets">;
  readonly logger: Pick<Console, "warn">;
}

export interface LogSyncHealth {
  readonly cursor: string | undefined;
  readonly lastSyncAgoMs: number | undefined;
  readonly lastSyncError: string | undefined;
}

export class LogSync {
  private cursorId: string | undefined;
  private epoch: string | undefined;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private lastCompletedAt: number | undefined;
  private lastError: string | undefined;
  private inFlight: Shared<void> | undefined;

  constructor(private readonly options: LogSyncOptions) {}

  /** The id of the last log entry applied to L1; undefined until a read has succeeded. */
  get cursor(): string | undefined {
    return this.cursorId;
  }

  /** The cursor with the epoch it was read in, for a fill to be checked against; undefined until a read has succeeded. */
  get position(): LogPosition | undefined {
    return this.cursorId === undefined || this.epoch === undefined
      ? undefined
      : { cursor: this.cursorId, epoch: this.epoch };
  }

  get health(): LogSyncHealth {
    return {
      cursor: this.cursorId,
      lastSyncAgoMs:
        this.lastCompletedAt === undefined ? undefined : this.options.clock.now() - this.lastCompletedAt,
      lastSyncError: this.lastError,
    };
  }

  /** A synchronous check, so a request with no read due skips the await `syncIfDue` costs. */
  mayBeDue(now: number): boolean {
    return this.inFlight !== undefined || now - this.lastStartedAt >= this.options.intervalMs;
  }

  /**
   * Reads the invalidation log when the interval has passed, and waits for it, so no
   * L1 entry is served later than interval + one round trip after its event
   * (docs/architecture.md "Freshness protocol"). Concurrent requests share the one read. Returns true when
   * this request waited on a read.
   */
  async syncIfDue(): Promise<boolean> {
    const current = this.inFlight;
    if (current) {
      const settled = await waitInOwnContext(current, this.options.guard.hardTimeoutMs, this.options.timers);
      // A read that never settled (its request was cancelled) must not hold every later request.
      if (!settled && this.inFlight === current) this.inFlight = undefined;
      return true;
    }
    const now = this.options.clock.now();
    if (now - this.lastStartedAt < this.options.intervalMs) return false;
    // An open circuit leaves the interval where it was: the first request after the cool-down probes.
    const read = this.options.guard.tryCall("invalidation log read", () =>
      this.options.l2.readLog(this.cursorId, this.options.maxEntriesPerRead, this.epoch),
    );
    if (!read) return false;
    this.lastStartedAt = now;
    const sync = share(
      read
        .then((outcome) => this.apply(outcome))
        .finally(() => {
          if (this.inFlight === sync) this.inFlight = undefined;
        }),
    );
    this.inFlight = sync;
    await sync.promise;
    return true;
  }

  private apply(outcome: Outcome<LogRead>): void {
    if (!outcome.ok) {
      this.lastError = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      return;
    }
    const read = outcome.value;
    const { l1 } = this.options;
    this.options.counters.syncs += 1;
    if (this.cursorId !== undefined) {
      if (read.lost) {
        l1.clear();
        if (read.reset) {
          this.options.counters.logResets += 1;
          this.options.logger.warn(
            `invalidation log reset (Redis lost or replaced its data, or a replica that was behind took over): ` +
              `cursor ${this.cursorId} of epoch ${this.epoch ?? "(none)"}, the log is now at ${read.lastId} ` +
              `of epoch ${read.epoch}; L1 cleared`,
          );
        }
      } else {
        const tags = new Set<string>();
        for (const entry of read.entries) for (const tag of entry.tags) tags.add(tag);
        if (tags.size > 0) l1.invalidateTags(tags);
      }
    } else if (l1.size > 0) {
      // Filled before any log read succeeded: the events since those fills cannot be known.
      l1.clear();
    }
    this.cursorId =
      read.lost || read.entries.length === 0 ? read.lastId : (read.entries.at(-1)?.id ?? read.lastId);
    this.epoch = read.epoch;
    this.lastCompletedAt = this.options.clock.now();
    this.lastError = undefined;
  }
}
