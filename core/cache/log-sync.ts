/**
 * The bounded-freshness sync of L1 against the invalidation log (docs/architecture.md "Freshness
 * protocol"): at most every `intervalMs`, one read of the log since the cursor, shared
 * by the requests that arrive meanwhile, applied to L1 before any of them reads it.
 *
 * The cursor is kept with the log's epoch (core/redis/read-log-script.ts): a read that finds
 * another log (Redis lost its data, a replica that was behind took over) clears L1 as a trimmed
 * log does, and is counted (`logResets`) and logged, since the events it lost are not
 * recoverable from the log and an operator should know.
 *
 * A request carrying a client's sync token past the cursor does not wait for the interval: it
 * forces the read (`syncPast`, docs/read-your-own-writes.md), within bounds made-up tokens cannot lift.
 */

import type { PushedRecord } from "../invalidation-log";
import { compareStreamIds } from "../invalidation-log";
import type { Clock, Timers } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import type { L1Entry, L1Store } from "./l1-store";
import type { L2Guard } from "./l2-guard";
import type { L2Store, LogPosition, LogRead } from "./l2-store";
import { type Outcome, type Shared, share, waitInOwnContext } from "./shared-work";

/**
 * A log position a client sends back (`X-Sync-Token`, docs/read-your-own-writes.md): the
 * invalidation-log id the event app gave for its delivery, at or past the client's write.
 */
export interface SyncToken {
  /** `<ms>-<seq>`, as Redis gave it. */
  readonly id: string;
  /** Redis's clock when the entry was written (the id's first part). */
  readonly ms: number;
}

/** The longest id Redis writes: two 20-digit numbers and the dash. */
export const SYNC_TOKEN_MAX_LENGTH = 41;

/**
 * How far Redis's clock (which the token's milliseconds come from) and the isolate's may
 * disagree. Both run on NTP; a token further ahead than this cannot have been written yet.
 */
export const SYNC_TOKEN_CLOCK_SKEW_MS = 2_000;

/** Forced reads start at most this often per isolate, whatever the tokens ask for. */
export const FORCED_SYNC_SPACING_MS = 50;

/** A token that is not one the event app could have given; the message says why. */
export class InvalidSyncTokenError extends Error {
  override readonly name = "InvalidSyncTokenError";
}

const SYNC_TOKEN = /^(\d{1,20})-(\d{1,20})$/;

/**
 * Checks a client's token: one `<ms>-<seq>` value, no longer than Redis writes, not from the
 * future by the isolate's clock `now` (beyond the allowed skew). Throws InvalidSyncTokenError.
 */
export function parseSyncToken(
  raw: string,
  now: number,
  skewMs: number = SYNC_TOKEN_CLOCK_SKEW_MS,
): SyncToken {
  if (raw.length > SYNC_TOKEN_MAX_LENGTH)
    throw new InvalidSyncTokenError(`longer than ${SYNC_TOKEN_MAX_LENGTH} characters`);
  // Headers.get joins repeated fields with ", ".
  if (raw.includes(",")) throw new InvalidSyncTokenError("more than one value");
  const match = SYNC_TOKEN.exec(raw);
  if (!match) throw new InvalidSyncTokenError("not a log position (<ms>-<seq>, digits only)");
  const ms = Number(match[1]);
  if (ms > now + skewMs) throw new InvalidSyncTokenError("from the future");
  // compareStreamIds compares as numbers: past 2^53 two different tokens would compare equal.
  if (!Number.isSafeInteger(Number(match[2])))
    throw new InvalidSyncTokenError("sequence number out of range");
  return { id: raw, ms };
}

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
  /**
   * Given the entries a sync invalidated, after it applied them and moved the cursor; the sync
   * (and every request waiting on it) ends when this does. The engine re-reads what is still in
   * use (core/cache/dropped-refresh.ts).
   */
  readonly afterDrop?: (dropped: ReadonlyArray<readonly [string, L1Entry]>) => Promise<void> | undefined;
  /** How far Redis's clock may be from this one (default SYNC_TOKEN_CLOCK_SKEW_MS). */
  readonly syncTokenSkewMs?: number;
  /** Forced reads start at most this often (default FORCED_SYNC_SPACING_MS). */
  readonly forcedSyncSpacingMs?: number;
}

/** A read in flight, with its place in the order reads started in. */
type InFlightRead = Shared<void> & { readonly seq: number };

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
  private inFlight: InFlightRead | undefined;
  /** Reads started so far: a read numbered above a request's count at arrival started after it. */
  private readsStarted = 0;
  /** The number of the newest read that has settled, successfully or not. */
  private settledSeq = 0;
  /** When the newest read that succeeded started. */
  private lastSucceededStartedAt = Number.NEGATIVE_INFINITY;
  private lastForcedAt = Number.NEGATIVE_INFINITY;

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
      await this.waitFor(current);
      return true;
    }
    const now = this.options.clock.now();
    if (now - this.lastStartedAt < this.options.intervalMs) return false;
    const sync = this.startRead(now);
    if (!sync) return false;
    await sync.promise;
    return true;
  }

  /**
   * True when `token` is past the cursor (or there is none yet): a request carrying it needs
   * `syncPast` before it reads L1. Synchronous, so a token at or behind the cursor costs no await.
   */
  isBehind(token: SyncToken): boolean {
    return this.cursorId === undefined || compareStreamIds(token.id, this.cursorId) > 0;
  }

  /**
   * Read-your-own-writes (docs/read-your-own-writes.md): brings the cursor to `token` before
   * the request reads L1, so a client that sends back the token of its delivery sees its own
   * change here at once, whatever the interval. Returns true when this request waited on a read.
   *
   * What a token can cost, so that made-up ones cannot buy a Redis read per request:
   * - A token past the cursor needs a read that started after its entry was written. One that
   *   started after this request arrived qualifies (the client had its 202 before asking), and so
   *   does one that started more than the clock skew after the token's time. Once such a read
   *   has settled and the cursor is still behind, the token names no entry of this log (made up,
   *   or from a log Redis has since lost): no further read, the request reads L1 as it is.
   * - A token more than the skew ahead of this clock is refused (parseSyncToken; here: no read).
   * - Reads are shared: a request joins the one in flight (interval or forced) before starting
   *   one, so an isolate has at most one read in flight, and forced reads start at most every
   *   `forcedSyncSpacingMs` (a request that needs one meanwhile waits for its turn, on its own
   *   timers). However many tokens arrive, an isolate adds at most 1000 / spacing reads a second.
   */
  async syncPast(token: SyncToken): Promise<boolean> {
    const { clock, timers } = this.options;
    const skewMs = this.options.syncTokenSkewMs ?? SYNC_TOKEN_CLOCK_SKEW_MS;
    const spacingMs = this.options.forcedSyncSpacingMs ?? FORCED_SYNC_SPACING_MS;
    const seenAtArrival = this.readsStarted;
    let waited = false;
    while (
      this.isBehind(token) &&
      token.ms <= clock.now() + skewMs &&
      this.lastSucceededStartedAt <= token.ms + skewMs &&
      this.settledSeq <= seenAtArrival
    ) {
      const current = this.inFlight;
      if (current) {
        waited = true;
        // A read that never settles counts as settled here: the request goes on without it.
        if (!(await this.waitFor(current)) && current.seq > seenAtArrival) break;
        continue;
      }
      const now = clock.now();
      const turnInMs = this.lastForcedAt + spacingMs - now;
      if (turnInMs > 0) {
        waited = true;
        await new Promise<void>((resolve) => timers.setTimeout(resolve, turnInMs));
        continue;
      }
      // An open circuit: nothing to wait for, L1 answers as it would without a token.
      const sync = this.startRead(now);
      if (!sync) break;
      this.lastForcedAt = now;
      waited = true;
      // This request's own read: awaited directly, as syncIfDue's leader does.
      await sync.promise;
    }
    return waited || this.syncIfDue();
  }

  /** Waits for a read another request may have started; false when it never settled. */
  private async waitFor(current: InFlightRead): Promise<boolean> {
    const settled = await waitInOwnContext(current, this.options.guard.hardTimeoutMs, this.options.timers);
    // A read that never settled (its request was cancelled) must not hold every later request.
    if (!settled && this.inFlight === current) this.inFlight = undefined;
    return settled !== undefined;
  }

  /** Sends one log read and makes it the one in flight; undefined when the circuit refuses it. */
  private startRead(now: number): InFlightRead | undefined {
    // An open circuit leaves the interval where it was: the first request after the cool-down probes.
    const read = this.options.guard.tryCall("invalidation log read", () =>
      this.options.l2.readLog(this.cursorId, this.options.maxEntriesPerRead, this.epoch),
    );
    if (!read) return undefined;
    this.lastStartedAt = now;
    this.readsStarted += 1;
    const seq = this.readsStarted;
    const sync = share(
      read
        .then((outcome) => {
          const dropped = this.apply(outcome);
          if (outcome.ok) this.lastSucceededStartedAt = Math.max(this.lastSucceededStartedAt, now);
          // Part of the sync its waiters share: they find the re-read listings in L1 when it ends.
          if (dropped.length > 0) return this.options.afterDrop?.(dropped);
        })
        .finally(() => {
          this.settledSeq = Math.max(this.settledSeq, seq);
          if (this.inFlight === sync) this.inFlight = undefined;
        }),
      { seq },
    );
    this.inFlight = sync;
    return sync;
  }

  /** Applies a read to L1; returns the entries it newly invalidated (not those it replaced in place). */
  private apply(outcome: Outcome<LogRead>): Array<readonly [string, L1Entry]> {
    const dropped: Array<readonly [string, L1Entry]> = [];
    if (!outcome.ok) {
      this.lastError = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      return dropped;
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
        // In log order: a later entry that names a tag without a record (a delete, an operator's
        // purge) undoes an earlier one's record, and a later record wins over an earlier drop.
        const tags = new Set<string>();
        const replacements = new Map<string, PushedRecord>();
        for (const entry of read.entries) {
          const pushed = new Map(entry.records.map((record) => [record.tag, record]));
          for (const tag of entry.tags) {
            tags.add(tag);
            const record = pushed.get(tag);
            if (record) replacements.set(tag, record);
            else replacements.delete(tag);
          }
        }
        if (tags.size > 0) l1.invalidateTags(tags, replacements, (key, entry) => dropped.push([key, entry]));
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
    return dropped;
  }
}
