/**
 * The tiered-cache engine (docs/architecture.md "The tiers"): L1 (this isolate's memory) → L2
 * (Redis) → origin, with single-flight, stale-while-revalidate, stale-if-error,
 * timeouts, a circuit breaker on Redis, race-safe fills, the bounded-freshness
 * sync of L1 against the invalidation log, refills that ask the origin for the
 * newest version of their tags (core/tag-versions.ts), so a CDN in front of the origin
 * cannot answer them with a copy from before an event, and negative entries: an origin
 * 404 answers its key from L1 for `negativeCacheMs`, never from L2.
 *
 * This class composes the parts and holds the read path: l1-store.ts (L1, its tag
 * index and the race-safe fill), log-sync.ts (the invalidation-log sync), shared-work.ts
 * (single-flight and cross-request waits), origin-reader.ts (the origin), l2-guard.ts
 * (every Redis call) and cache-stats.ts (the counters).
 *
 * Runtime-neutral: every I/O (L2 store, origin fetch, clock, timers, logger) is
 * injected. One instance lives per Worker isolate (module scope), so its L1,
 * cursor and counters last as long as the isolate does; every structure it keeps by key is
 * bounded in bytes and reported by `memory`.
 */
import type { DataClassName, DataClassPolicies, DataClassPolicy } from "../data-classes";
import { newestTagVersion, versionedOriginPath } from "../tag-versions";
import { type Clock, systemTimers, TimeoutError, type Timers } from "../time/clock";
import { type CacheSource, type TieredCacheStats, zeroTieredCacheStats } from "./cache-stats";
import type { CircuitState } from "./circuit-breaker";
import { DroppedRefresh } from "./dropped-refresh";
import { type L1Entry, type L1Memory, L1Store, type NegativeEntry } from "./l1-store";
import { L2Guard } from "./l2-guard";
import type { L2Store, ListingView, LogPosition } from "./l2-store";
import { type LoadedValue, loadedFromL2, type TierTiming } from "./loaded-value";
import { LogSync, type SyncToken } from "./log-sync";
import type { MemoryUsage } from "./memory-usage";
import { OriginReader, OriginUnavailableError } from "./origin-reader";
import { PendingWorkBudget, SingleFlight } from "./shared-work";

export type { CacheSource, TieredCacheStats } from "./cache-stats";
export type { TierTiming } from "./loaded-value";
export { OriginUnavailableError } from "./origin-reader";

/** What one route asks of the cache. */
export interface CacheLookup {
  /** Normalised cache key: L1 key and single-flight key. */
  readonly key: string;
  /** Where the value lives in Redis. */
  readonly l2Key: string;
  /** Aggregate responses are registered under their tags in Redis, so an event can drop them. */
  readonly indexed: boolean;
  readonly dataClass: DataClassName;
  readonly tags: readonly string[];
  /** Path and query to ask the origin on a miss (the tag version, when there is one, is added to it). */
  readonly originPath: string;
  /**
   * A listing Redis keeps as a view (core/redis/listing-views.ts): read from it, one command,
   * before anything else below L1; the origin answers only when the views cannot.
   */
  readonly view?: ListingView;
}

export interface CacheAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  /** Strong validator of `body`; absent for answers not stored (errors, private, pass-through). */
  readonly etag: string | undefined;
  readonly tags: readonly string[];
  readonly dataClass: DataClassName;
  readonly source: CacheSource;
  /** Why a STALE answer was stale. */
  readonly staleReason?: "revalidating" | "error";
  /** True when the answer may be stored by shared HTTP caches. */
  readonly shareable: boolean;
  readonly timings: readonly TierTiming[];
  /** Extra headers to pass on (private pass-through answers keep the origin's). */
  readonly passHeaders?: Readonly<Record<string, string>>;
}

/** What a request adds to a lookup. */
export interface CacheRequest {
  /**
   * The client's `X-Sync-Token` (core/cache/log-sync.ts parseSyncToken): L1 is brought up to
   * that log position before it answers (docs/read-your-own-writes.md).
   */
  readonly syncToken?: SyncToken;
}

export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

export interface TieredCacheOptions {
  readonly l2: L2Store;
  /** Fetches `path` from the origin; the signal aborts at `originTimeoutMs`. */
  readonly fetchOrigin: (path: string, signal: AbortSignal) => Promise<Response>;
  readonly policies: DataClassPolicies;
  readonly clock: Clock;
  readonly timers?: Timers;
  readonly logger?: Pick<Console, "warn" | "error">;
  readonly l1MaxBytes: number;
  readonly l1MaxEntries: number;
  /** The freshness promise: L1 reads the log at most this often. */
  readonly syncIntervalMs: number;
  /** More entries than this since the cursor clears L1 instead. */
  readonly maxLogEntriesPerSync?: number;
  readonly l2SoftTimeoutMs: number;
  readonly l2HardTimeoutMs: number;
  readonly originTimeoutMs: number;
  /**
   * The query parameter an origin fetch after an L2 miss carries the newest version of the
   * lookup's tags in (core/tag-versions.ts); absent or empty: the origin is asked `originPath` as is.
   */
  readonly originVersionParam?: string;
  readonly breaker?: { readonly failureThreshold: number; readonly cooldownMs: number };
  /**
   * How long an origin 404 answers for its key from this isolate's memory (a negative entry,
   * never in L2); absent or 0: 404s are not kept.
   */
  readonly negativeCacheMs?: number;
  /** Bytes the negative entries may take (default DEFAULT_NEGATIVE_CACHE_MAX_BYTES). */
  readonly negativeCacheMaxBytes?: number;
  /** Bytes each map of pending work (loads in flight, background refreshes) may take. */
  readonly pendingWorkMaxBytes?: number;
  /**
   * Called (at most once per `viewsRefreshMs` per isolate) when a view read finds the views never
   * warmed, or warmed longer ago than `viewsRefreshMs`: the caller starts a warm (core/views/).
   */
  readonly onViewsDue?: (ctx: WaitUntil) => void;
  /** How old a warm may be before the views are warmed again (the safety net for a lost event). */
  readonly viewsRefreshMs?: number;
  /** False: lookups' views are ignored and listings load as any aggregate (default true). */
  readonly listingViews?: boolean;
}

/** About 1,500 negative entries of a 150-character key and a short error body. */
export const DEFAULT_NEGATIVE_CACHE_MAX_BYTES = 1024 * 1024;

/** How the last failed Redis call failed: no answer (network, timeout), or an error answer. */
export type RedisFailureKind = "unreachable" | "error-reply";

/** The last failed Redis call, for operators (/_cache/stats): its text names commands and keys. */
export interface RedisFailure {
  /** Which call (the guard's name for it, e.g. "invalidation log read"). */
  readonly operation: string;
  readonly kind: RedisFailureKind;
  readonly message: string;
  readonly at: number;
}

export interface TieredCacheHealth {
  readonly circuit: CircuitState;
  readonly cursor: string | undefined;
  readonly lastSyncAgoMs: number | undefined;
  readonly lastSyncError: string | undefined;
  readonly lastRedisFailure: (Omit<RedisFailure, "at"> & { readonly agoMs: number }) | undefined;
  readonly isolateAgeMs: number;
}

/** Entries and bytes of every per-isolate structure of the engine, each against its budget. */
export interface TieredCacheMemory extends L1Memory {
  readonly loads: MemoryUsage & { readonly refused: number };
  readonly refreshes: MemoryUsage & { readonly refused: number };
}

/**
 * The Upstash client (core/cache/l2-store.ts) raises its own errors (UpstashError and its
 * subclasses) only for an answer: Redis's, or its REST front's (a refused token, an unknown
 * command, a script error, a body that is not JSON). Anything else is no answer: a network
 * error (workerd rejects with a plain Error, Node with a TypeError) or none within the hard timeout.
 */
function failureKind(error: unknown): RedisFailureKind {
  if (error instanceof TimeoutError) return "unreachable";
  return error instanceof Error && error.name.startsWith("Upstash") ? "error-reply" : "unreachable";
}

/** How old an L1 entry of this class may be and still answer at all (stale-if-error included). */
function usableLifeMs(policy: DataClassPolicy): number {
  return policy.l1MaxMs + policy.staleIfErrorMs;
}

/** What the leader of a load recorded when it started. */
interface LoadStart {
  readonly seqAtStart: number;
}

export class TieredCache {
  readonly stats: TieredCacheStats = zeroTieredCacheStats();
  readonly startedAt: number;

  private readonly l1: L1Store;
  private readonly guard: L2Guard;
  /** How the last Redis call that failed failed, for operators (/_cache/stats). */
  private lastRedisFailure: RedisFailure | undefined;
  private readonly logSync: LogSync;
  private readonly origin: OriginReader;
  private readonly loadBudget: PendingWorkBudget;
  private readonly loads: SingleFlight<LoadedValue, LoadStart>;
  private readonly refreshing = new Set<string>();
  private readonly refreshBudget: PendingWorkBudget;
  private readonly timers: Timers;
  private readonly logger: Pick<Console, "warn" | "error">;
  private viewsDueCalledAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: TieredCacheOptions) {
    const { clock } = options;
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger ?? console;
    this.startedAt = clock.now();
    this.l1 = new L1Store({
      maxBytes: options.l1MaxBytes,
      maxEntries: options.l1MaxEntries,
      maxAgeMs: Math.max(...Object.values(options.policies).map(usableLifeMs)),
      clock,
      counters: this.stats,
      negative: {
        ttlMs: options.negativeCacheMs ?? 0,
        maxBytes: options.negativeCacheMaxBytes ?? DEFAULT_NEGATIVE_CACHE_MAX_BYTES,
      },
    });
    this.guard = new L2Guard({
      clock,
      timers: this.timers,
      logger: this.logger,
      hardTimeoutMs: options.l2HardTimeoutMs,
      breaker: options.breaker,
      counters: this.stats,
      onFailure: (operation, error) => {
        this.lastRedisFailure = {
          operation,
          kind: failureKind(error),
          message: error instanceof Error ? error.message : String(error),
          at: clock.now(),
        };
      },
    });
    const refresher = new DroppedRefresh({
      l1: this.l1,
      l2: options.l2,
      guard: this.guard,
      clock,
      policies: options.policies,
      counters: this.stats,
    });
    this.logSync = new LogSync({
      l2: options.l2,
      l1: this.l1,
      guard: this.guard,
      clock,
      timers: this.timers,
      intervalMs: options.syncIntervalMs,
      maxEntriesPerRead: options.maxLogEntriesPerSync ?? 1_000,
      counters: this.stats,
      logger: this.logger,
      afterDrop: (dropped) => refresher.refresh(dropped),
    });
    this.origin = new OriginReader({
      fetchOrigin: options.fetchOrigin,
      timeoutMs: options.originTimeoutMs,
      clock,
      timers: this.timers,
      counters: this.stats,
    });
    this.loadBudget = new PendingWorkBudget(options.pendingWorkMaxBytes);
    this.refreshBudget = new PendingWorkBudget(options.pendingWorkMaxBytes);
    // A load is an L2 read, a tag-version read and an origin fetch, each bounded by its own timeout.
    this.loads = new SingleFlight(
      this.timers,
      2 * options.l2HardTimeoutMs + options.originTimeoutMs,
      this.loadBudget,
    );
  }

  /** L1 size, for /_cache/stats. */
  get l1Usage(): { entries: number; bytes: number } {
    return this.l1.usage;
  }

  /** Every per-isolate structure of the engine, for /_cache/stats. */
  get memory(): TieredCacheMemory {
    return { ...this.l1.memory, loads: this.loadBudget.usage, refreshes: this.refreshBudget.usage };
  }

  get health(): TieredCacheHealth {
    const now = this.options.clock.now();
    const failure = this.lastRedisFailure;
    return {
      circuit: this.guard.circuit,
      ...this.logSync.health,
      lastRedisFailure: failure && {
        operation: failure.operation,
        kind: failure.kind,
        message: failure.message,
        agoMs: now - failure.at,
      },
      isolateAgeMs: now - this.startedAt,
    };
  }

  async get(lookup: CacheLookup, ctx: WaitUntil, request: CacheRequest = {}): Promise<CacheAnswer> {
    const timings: TierTiming[] = [];
    const syncStarted = this.options.clock.now();
    const { syncToken } = request;
    // Checked before calling: most requests find no read due (and carry no token past the
    // cursor), and an await costs every L1 hit.
    if (syncToken !== undefined && this.logSync.isBehind(syncToken)) {
      if (await this.logSync.syncPast(syncToken))
        timings.push({ tier: "sync", ms: this.options.clock.now() - syncStarted });
    } else if (this.logSync.mayBeDue(syncStarted)) {
      if (await this.logSync.syncIfDue())
        timings.push({ tier: "sync", ms: this.options.clock.now() - syncStarted });
    }

    const policy = this.options.policies[lookup.dataClass];
    const now = this.options.clock.now();
    const l1Started = now;
    const entry = this.l1.get(lookup.key);
    timings.push({ tier: "l1", ms: this.options.clock.now() - l1Started });
    const age = entry ? now - entry.filledAt : Number.POSITIVE_INFINITY;

    if (entry && !entry.invalidated && age < policy.l1FreshMs) {
      this.stats.hits.l1 += 1;
      entry.hitAt = now;
      return this.answerFromL1(entry, lookup, "L1", timings);
    }
    if (entry && !entry.invalidated && age < policy.l1MaxMs) {
      this.stats.staleServed.revalidating += 1;
      entry.hitAt = now;
      this.refreshInBackground(lookup, ctx);
      return this.answerFromL1(entry, lookup, "STALE", timings, "revalidating");
    }
    if (!entry) {
      const negative = this.l1.getNegative(lookup.key);
      if (negative) {
        this.stats.negativeHits += 1;
        return this.answerFromNegative(negative, lookup, timings);
      }
    }
    this.stats.misses.l1 += 1;
    const fallback = entry && age < usableLifeMs(policy) ? entry : undefined;

    try {
      // A slow Redis may be answered with a stale copy, but not with one an event named:
      // that one is only served on a real failure (below), or the freshness bound breaks.
      const loaded = await this.load(lookup, ctx, fallback?.invalidated ? undefined : fallback);
      if (loaded === "serve-stale" && fallback) {
        this.stats.staleServed.error += 1;
        return this.answerFromL1(fallback, lookup, "STALE", timings, "error");
      }
      if (loaded === "serve-stale") throw new OriginUnavailableError("no usable copy");
      return this.answerFromLoaded(loaded, lookup, [...timings, ...loaded.timings]);
    } catch (error) {
      if (fallback) {
        this.stats.staleServed.error += 1;
        return this.answerFromL1(fallback, lookup, "STALE", timings, "error");
      }
      throw error instanceof OriginUnavailableError
        ? error
        : new OriginUnavailableError(`origin unavailable for ${lookup.originPath}`, { cause: error });
    }
  }

  /** Drops every L1 entry carrying one of `tags`, as the log sync does (exposed for manual purges). */
  invalidateTags(tags: Iterable<string>): number {
    return this.l1.invalidateTags(tags);
  }

  clearL1(): void {
    this.l1.clear();
  }

  private refreshInBackground(lookup: CacheLookup, ctx: WaitUntil): void {
    if (this.refreshing.has(lookup.key)) return;
    // Past the budget the stale copy still answers; a later request starts the refresh.
    if (!this.refreshBudget.tryReserve(lookup.key)) return;
    this.refreshing.add(lookup.key);
    const refresh = this.load(lookup, ctx, undefined)
      .catch((error: unknown) => {
        this.logger.warn(`background refresh of ${lookup.key} failed`, error);
      })
      .finally(() => {
        this.refreshing.delete(lookup.key);
        this.refreshBudget.release(lookup.key);
      });
    ctx.waitUntil(refresh);
  }

  /**
   * L2, then the origin; one load per key at a time in this isolate (single-flight).
   * With a stale fallback at hand, a slow Redis past its soft timeout answers
   * "serve-stale" while the load goes on in the background to refill L1.
   */
  private async load(
    lookup: CacheLookup,
    ctx: WaitUntil,
    fallback: L1Entry | undefined,
  ): Promise<LoadedValue | "serve-stale"> {
    const { flight, leader } = this.joinOrStartLoad(lookup, ctx);
    // A private answer belongs to the request that caused it: followers ask the origin themselves.
    const pending = leader
      ? flight.promise
      : this.loads
          .follow(lookup.key, flight)
          .then((loaded) =>
            loaded.source === "BYPASS"
              ? this.readOrigin(lookup, loaded.originPath ?? lookup.originPath, [])
              : loaded,
          );
    if (!fallback) return pending;
    let handle: unknown;
    const soft = new Promise<"serve-stale">((resolve) => {
      handle = this.timers.setTimeout(() => resolve("serve-stale"), this.options.l2SoftTimeoutMs);
    });
    try {
      const winner = await Promise.race([pending, soft]);
      if (winner === "serve-stale") ctx.waitUntil(pending.catch(() => {}));
      return winner;
    } finally {
      this.timers.clearTimeout(handle);
    }
  }

  /**
   * Joins the load already under way for this key, unless an invalidation of the key
   * overtook it: joining then would hand back what the event replaced.
   */
  private joinOrStartLoad(lookup: CacheLookup, ctx: WaitUntil) {
    return this.loads.joinOrStart(
      lookup.key,
      (current) => !this.l1.invalidatedSince(lookup.tags, current.seqAtStart),
      () => {
        const seqAtStart = this.l1.sequence;
        return { work: this.loadBelowL1(lookup, ctx, seqAtStart), meta: { seqAtStart } };
      },
    );
  }

  private async loadBelowL1(lookup: CacheLookup, ctx: WaitUntil, seqAtStart: number): Promise<LoadedValue> {
    const positionAtStart = this.logSync.position;
    const timings: TierTiming[] = [];

    if (lookup.view && this.options.listingViews !== false) {
      const fromView = await this.loadFromView(lookup, lookup.view, ctx, seqAtStart, timings);
      if (fromView) return fromView;
    }

    const started = this.options.clock.now();
    let originPath = lookup.originPath;
    const read = this.guard.tryCall("Redis read", () => this.options.l2.get(lookup.l2Key));
    if (read) {
      const outcome = await read;
      if (outcome.ok && outcome.value) {
        timings.push({ tier: "l2", ms: this.options.clock.now() - started });
        this.stats.hits.l2 += 1;
        // A record with its stored ETag needs no await (one less turn of the microtask queue per hit).
        const fromL2 = loadedFromL2(outcome.value, timings);
        const loaded = fromL2 instanceof Promise ? await fromL2 : fromL2;
        this.fillL1(lookup, loaded, seqAtStart);
        return loaded;
      }
      if (outcome.ok) {
        this.stats.misses.l2 += 1;
        // Only after a clean miss: a Redis that just failed the read gets no second wait.
        originPath = await this.versionedOriginPath(lookup);
      }
      timings.push({ tier: "l2", ms: this.options.clock.now() - started });
    }

    const loaded = await this.readOrigin(lookup, originPath, timings);
    // "No such id": kept in this isolate only, so made-up keys neither reach Redis nor repeat at the origin.
    if (loaded.source === "ORIGIN" && loaded.status === 404) {
      this.l1.fillNegative(
        lookup.key,
        { status: loaded.status, body: loaded.body, contentType: loaded.contentType, tags: lookup.tags },
        seqAtStart,
      );
    }
    if (loaded.storable) {
      this.fillL1(lookup, loaded, seqAtStart);
      // Without a cursor the fill could not tell whether an event raced it: L2 is left alone.
      if (positionAtStart !== undefined) this.fillL2(lookup, loaded, positionAtStart, ctx);
    }
    return loaded;
  }

  /**
   * A listing from its view; undefined when the views cannot answer (not warmed, a record gone,
   * Redis failing), and the load goes on below as for any aggregate.
   */
  private async loadFromView(
    lookup: CacheLookup,
    view: ListingView,
    ctx: WaitUntil,
    seqAtStart: number,
    timings: TierTiming[],
  ): Promise<LoadedValue | undefined> {
    const started = this.options.clock.now();
    const read = this.guard.tryCall("Redis view read", () => this.options.l2.readListings([view]));
    const outcome = read ? await read : undefined;
    if (!outcome?.ok) return undefined;
    const found = outcome.value;
    if (found.outcome === "not-ready") {
      this.stats.viewReads.notReady += 1;
      this.viewsDue(ctx);
      return undefined;
    }
    const [body] = found.bodies;
    if (body === undefined) {
      this.stats.viewReads.incomplete += 1;
      return undefined;
    }
    this.stats.viewReads.ok += 1;
    const refreshMs = this.options.viewsRefreshMs;
    if (refreshMs !== undefined && this.options.clock.now() - found.warmedAt > refreshMs) this.viewsDue(ctx);
    timings.push({ tier: "l2", ms: this.options.clock.now() - started });
    this.stats.hits.l2 += 1;
    const loaded = await loadedFromL2({ body, version: 0 }, timings);
    this.fillL1(lookup, loaded, seqAtStart);
    return loaded;
  }

  private viewsDue(ctx: WaitUntil): void {
    const now = this.options.clock.now();
    if (!this.options.onViewsDue || now - this.viewsDueCalledAt < (this.options.viewsRefreshMs ?? 0)) return;
    this.viewsDueCalledAt = now;
    this.options.onViewsDue(ctx);
  }

  /**
   * `originPath` with the newest version of the lookup's tags (one MGET through the guard).
   * Without one (no event named them, versioning off, or the read failed: counted and logged
   * by the guard) the origin is asked the plain path: a refill never fails for want of it.
   */
  private async versionedOriginPath(lookup: CacheLookup): Promise<string> {
    const param = this.options.originVersionParam;
    if (!param || lookup.tags.length === 0) return lookup.originPath;
    const read = this.guard.tryCall("Redis tag versions", () => this.options.l2.tagVersions(lookup.tags));
    const outcome = read ? await read : undefined;
    if (!outcome?.ok) return lookup.originPath;
    return versionedOriginPath(lookup.originPath, param, newestTagVersion(outcome.value));
  }

  /** Asks the origin for `path`, counting the fetches that carry a tag version. */
  private readOrigin(lookup: CacheLookup, path: string, timings: TierTiming[]): Promise<LoadedValue> {
    if (path !== lookup.originPath) this.stats.versionedOriginFetches += 1;
    return this.origin.read(path, timings);
  }

  private fillL1(lookup: CacheLookup, loaded: LoadedValue, seqAtStart: number): void {
    if (!loaded.etag) return;
    this.l1.fill(
      lookup.key,
      {
        body: loaded.body,
        etag: loaded.etag,
        tags: lookup.tags,
        dataClass: lookup.dataClass,
        contentType: loaded.contentType,
        ...(lookup.view && this.options.listingViews !== false ? { view: lookup.view } : {}),
        // An entity's record key: a sync that drops it while in use re-reads it from there.
        ...(lookup.indexed ? {} : { record: lookup.l2Key }),
      },
      seqAtStart,
    );
  }

  /** Writes the value to L2 after the answer (in waitUntil), unless Redis holds something newer. */
  private fillL2(lookup: CacheLookup, loaded: LoadedValue, since: LogPosition, ctx: WaitUntil): void {
    const fill = this.guard.tryCall("Redis fill", () =>
      this.options.l2.fill(
        lookup.l2Key,
        {
          version: loaded.version,
          body: loaded.body,
          tags: lookup.tags,
          storedAt: this.options.clock.now(),
          ...(loaded.etag ? { etag: loaded.etag } : {}),
        },
        {
          ttlSeconds: this.options.policies[lookup.dataClass].l2TtlSeconds,
          sinceLogId: since.cursor,
          logEpoch: since.epoch,
          indexed: lookup.indexed,
        },
      ),
    );
    if (!fill) return;
    ctx.waitUntil(
      fill.then((outcome) => {
        if (outcome.ok && outcome.value !== "stored") this.stats.fillsRefused[outcome.value] += 1;
      }),
    );
  }

  private answerFromL1(
    entry: L1Entry,
    lookup: CacheLookup,
    source: "L1" | "STALE",
    timings: TierTiming[],
    staleReason?: "revalidating" | "error",
  ): CacheAnswer {
    this.stats.answers[lookup.dataClass][source] += 1;
    return {
      status: 200,
      body: entry.body,
      contentType: entry.contentType,
      etag: entry.etag,
      tags: lookup.tags,
      dataClass: lookup.dataClass,
      source,
      shareable: true,
      timings,
      ...(staleReason ? { staleReason } : {}),
    };
  }

  /** A negative entry's 404: from this isolate's memory, shareable with no one. */
  private answerFromNegative(entry: NegativeEntry, lookup: CacheLookup, timings: TierTiming[]): CacheAnswer {
    this.stats.answers[lookup.dataClass].L1 += 1;
    return {
      status: entry.status,
      body: entry.body,
      contentType: entry.contentType,
      etag: undefined,
      tags: lookup.tags,
      dataClass: lookup.dataClass,
      source: "L1",
      shareable: false,
      timings,
    };
  }

  private answerFromLoaded(loaded: LoadedValue, lookup: CacheLookup, timings: TierTiming[]): CacheAnswer {
    this.stats.answers[lookup.dataClass][loaded.source] += 1;
    return {
      status: loaded.status,
      body: loaded.body,
      contentType: loaded.contentType,
      etag: loaded.etag,
      tags: lookup.tags,
      dataClass: lookup.dataClass,
      source: loaded.source,
      shareable: loaded.storable,
      timings,
      ...(loaded.passHeaders ? { passHeaders: loaded.passHeaders } : {}),
    };
  }
}
