/**
 * The tiered-cache engine (DESIGN "The tiers"): L1 (this isolate's memory) → L2
 * (Redis) → origin, with single-flight, stale-while-revalidate, stale-if-error,
 * timeouts, a circuit breaker on Redis, race-safe fills and the bounded-freshness
 * sync of L1 against the invalidation log.
 *
 * Runtime-neutral: every I/O (L2 store, origin fetch, clock, timers, logger) is
 * injected. One instance lives per Worker isolate (module scope), so its L1,
 * cursor and counters last as long as the isolate does.
 */
import { LRUCache } from "lru-cache";
import type { DataClassName, DataClassPolicies } from "../data-classes";
import { type Clock, systemTimers, TimeoutError, type Timers, withTimeout } from "../time/clock";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker";
import type { L2Store } from "./l2-store";

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
  /** Path and query to ask the origin on a miss. */
  readonly originPath: string;
}

export type CacheSource = "L1" | "L2" | "ORIGIN" | "STALE" | "BYPASS";

export interface TierTiming {
  readonly tier: "sync" | "l1" | "l2" | "origin";
  readonly ms: number;
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

/** Nothing usable anywhere: the origin failed and no copy is within its stale-if-error limit. */
export class OriginUnavailableError extends Error {
  override readonly name = "OriginUnavailableError";
}

export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

export interface TieredCacheOptions {
  readonly l2: L2Store;
  /** Fetches `path` from the origin; the signal aborts at the hard timeout. */
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
  readonly breaker?: { readonly failureThreshold: number; readonly cooldownMs: number };
}

interface L1Entry {
  readonly body: string;
  readonly etag: string;
  readonly tags: readonly string[];
  readonly dataClass: DataClassName;
  readonly contentType: string;
  readonly filledAt: number;
  /** Set when an invalidation named one of its tags: never served fresh again, only on error. */
  invalidated: boolean;
}

interface Loaded {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly source: "L2" | "ORIGIN" | "BYPASS";
  readonly storable: boolean;
  readonly etag: string | undefined;
  readonly version: number;
  readonly timings: TierTiming[];
  readonly passHeaders?: Record<string, string>;
}

export interface TieredCacheStats {
  hits: { l1: number; l2: number; origin: number };
  misses: { l1: number; l2: number };
  staleServed: { revalidating: number; error: number };
  bypass: number;
  redisCommands: number;
  redisErrors: number;
  originErrors: number;
  l1Evictions: { byTag: number; clears: number };
  syncs: number;
  fillsRefused: { older: number; raced: number };
}

const encoder = new TextEncoder();
/** How far past the shared work's own timeouts a waiting request gives up on it. */
const SHARED_WAIT_MARGIN_MS = 100;
/** Waiting requests look again after 1, 2, 4 … ms, at most this far apart. */
const SHARED_POLL_MAX_MS = 4;

/** Work one request started that others may wait for; `outcome` is set once it settles. */
interface Shared<T> {
  readonly promise: Promise<T>;
  outcome?: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };
}

function share<T, Extra extends object = object>(promise: Promise<T>, extra?: Extra): Shared<T> & Extra {
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

interface Flight extends Shared<Loaded> {
  readonly seqAtStart: number;
}

const JSON_TYPE = "application/json";

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

async function strongEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  // One join, not `+=` in a loop: V8 would keep the latter as a chain of 16 fragments per
  // entry, about 700 bytes of heap that L1's byte budget does not see (a flat string is ~70).
  return `"${Array.from(digest.subarray(0, 16), (byte) => HEX_BYTES[byte]).join("")}"`;
}

/** `private`, `no-store` or a `Set-Cookie` from the origin: never into a shared tier. */
function isPrivateResponse(response: Response): boolean {
  if (response.headers.has("set-cookie")) return true;
  const cacheControl = response.headers.get("cache-control")?.toLowerCase() ?? "";
  return /(^|[\s,])(private|no-store)([\s,=]|$)/.test(cacheControl);
}

export class TieredCache {
  readonly stats: TieredCacheStats = {
    hits: { l1: 0, l2: 0, origin: 0 },
    misses: { l1: 0, l2: 0 },
    staleServed: { revalidating: 0, error: 0 },
    bypass: 0,
    redisCommands: 0,
    redisErrors: 0,
    originErrors: 0,
    l1Evictions: { byTag: 0, clears: 0 },
    syncs: 0,
    fillsRefused: { older: 0, raced: 0 },
  };
  readonly startedAt: number;

  private readonly l1: LRUCache<string, L1Entry>;
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Flight>();
  private readonly refreshing = new Set<string>();
  private readonly breaker: CircuitBreaker;
  private readonly timers: Timers;
  private readonly logger: Pick<Console, "warn" | "error">;

  /** Invalidation bookkeeping for race-safe L1 fills: a sequence bumped by every eviction. */
  private invalidationSeq = 0;
  private readonly tagInvalidatedAt = new Map<string, number>();
  private clearedAtSeq = 0;

  private cursor: string | undefined;
  private lastSyncStartedAt = Number.NEGATIVE_INFINITY;
  private lastSyncCompletedAt: number | undefined;
  private lastSyncError: string | undefined;
  private syncInFlight: Shared<void> | undefined;

  constructor(private readonly options: TieredCacheOptions) {
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger ?? console;
    this.startedAt = options.clock.now();
    this.breaker = new CircuitBreaker(
      options.clock,
      options.breaker ?? { failureThreshold: 3, cooldownMs: 5_000 },
    );
    const longestLife = Math.max(
      ...Object.values(options.policies).map((policy) => policy.l1MaxMs + policy.staleIfErrorMs),
    );
    this.l1 = new LRUCache<string, L1Entry>({
      max: options.l1MaxEntries,
      maxSize: options.l1MaxBytes,
      sizeCalculation: (entry, key) => entry.body.length * 2 + key.length * 2 + 200,
      // Expiry follows the injected clock; each entry keeps its class's own limits (checked on read).
      ttl: longestLife,
      ttlAutopurge: false,
      perf: { now: () => options.clock.now() },
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  /** L1 size, for /_cache/stats. */
  get l1Usage(): { entries: number; bytes: number } {
    return { entries: this.l1.size, bytes: this.l1.calculatedSize };
  }

  get health(): {
    circuit: CircuitState;
    cursor: string | undefined;
    lastSyncAgoMs: number | undefined;
    lastSyncError: string | undefined;
    isolateAgeMs: number;
  } {
    return {
      circuit: this.breaker.state,
      cursor: this.cursor,
      lastSyncAgoMs:
        this.lastSyncCompletedAt === undefined
          ? undefined
          : this.options.clock.now() - this.lastSyncCompletedAt,
      lastSyncError: this.lastSyncError,
      isolateAgeMs: this.options.clock.now() - this.startedAt,
    };
  }

  async get(lookup: CacheLookup, ctx: WaitUntil): Promise<CacheAnswer> {
    const timings: TierTiming[] = [];
    const syncStarted = this.options.clock.now();
    // Checked before calling: most requests find no read due, and an await costs every L1 hit.
    if (this.syncInFlight || syncStarted - this.lastSyncStartedAt >= this.options.syncIntervalMs) {
      if (await this.syncIfDue()) timings.push({ tier: "sync", ms: this.options.clock.now() - syncStarted });
    }

    const policy = this.options.policies[lookup.dataClass];
    const now = this.options.clock.now();
    const l1Started = now;
    const entry = this.l1.get(lookup.key);
    timings.push({ tier: "l1", ms: this.options.clock.now() - l1Started });
    const age = entry ? now - entry.filledAt : Number.POSITIVE_INFINITY;

    if (entry && !entry.invalidated && age < policy.l1FreshMs) {
      this.stats.hits.l1 += 1;
      return this.answerFromL1(entry, lookup, "L1", timings);
    }
    if (entry && !entry.invalidated && age < policy.l1MaxMs) {
      this.stats.staleServed.revalidating += 1;
      this.refreshInBackground(lookup, ctx);
      return this.answerFromL1(entry, lookup, "STALE", timings, "revalidating");
    }
    this.stats.misses.l1 += 1;
    const fallback = entry && age < policy.l1MaxMs + policy.staleIfErrorMs ? entry : undefined;

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

  /** Drops every L1 entry carrying one of `tags` (used by the log sync; exposed for manual purges). */
  invalidateTags(tags: Iterable<string>): number {
    let evicted = 0;
    const seq = ++this.invalidationSeq;
    for (const tag of tags) {
      this.tagInvalidatedAt.set(tag, seq);
      for (const key of this.keysByTag.get(tag) ?? []) {
        const entry = this.l1.peek(key);
        if (entry && !entry.invalidated) {
          entry.invalidated = true;
          evicted += 1;
        }
      }
    }
    this.stats.l1Evictions.byTag += evicted;
    return evicted;
  }

  clearL1(): void {
    this.clearedAtSeq = ++this.invalidationSeq;
    for (const entry of this.l1.values()) entry.invalidated = true;
    this.stats.l1Evictions.clears += 1;
  }

  /**
   * Reads the invalidation log when the interval has passed, and waits for it, so no
   * L1 entry is served later than interval + one round trip after its event (DESIGN
   * "Freshness protocol"). Concurrent requests share the one read. Returns true when
   * this request waited on a read.
   */
  private async syncIfDue(): Promise<boolean> {
    const current = this.syncInFlight;
    if (current) {
      const settled = await this.waitInOwnContext(
        current,
        this.options.l2HardTimeoutMs + SHARED_WAIT_MARGIN_MS,
      );
      // A read that never settled (its request was cancelled) must not hold every later request.
      if (!settled && this.syncInFlight === current) this.syncInFlight = undefined;
      return true;
    }
    const now = this.options.clock.now();
    if (now - this.lastSyncStartedAt < this.options.syncIntervalMs) return false;
    if (!this.breaker.allow()) return false;
    this.lastSyncStartedAt = now;
    const sync = share(
      this.sync().finally(() => {
        if (this.syncInFlight === sync) this.syncInFlight = undefined;
      }),
    );
    this.syncInFlight = sync;
    await sync.promise;
    return true;
  }

  private async sync(): Promise<void> {
    const maxEntries = this.options.maxLogEntriesPerSync ?? 1_000;
    try {
      this.stats.redisCommands += 1;
      const read = await withTimeout(
        this.options.l2.readLog(this.cursor, maxEntries),
        this.options.l2HardTimeoutMs,
        this.timers,
        "invalidation log read",
      );
      this.breaker.success();
      this.stats.syncs += 1;
      if (this.cursor !== undefined) {
        if (read.lost) {
          this.clearL1();
        } else {
          const tags = new Set<string>();
          for (const entry of read.entries) for (const tag of entry.tags) tags.add(tag);
          if (tags.size > 0) this.invalidateTags(tags);
        }
      } else if (this.l1.size > 0) {
        // Filled before any log read succeeded: the events since those fills cannot be known.
        this.clearL1();
      }
      this.cursor =
        read.lost || read.entries.length === 0 ? read.lastId : (read.entries.at(-1)?.id ?? read.lastId);
      this.lastSyncCompletedAt = this.options.clock.now();
      this.lastSyncError = undefined;
    } catch (error) {
      this.recordRedisFailure(error);
      this.lastSyncError = error instanceof Error ? error.message : String(error);
    }
  }

  private refreshInBackground(lookup: CacheLookup, ctx: WaitUntil): void {
    if (this.refreshing.has(lookup.key)) return;
    this.refreshing.add(lookup.key);
    const refresh = this.load(lookup, ctx, undefined)
      .catch((error: unknown) => {
        this.logger.warn(`background refresh of ${lookup.key} failed`, error);
      })
      .finally(() => this.refreshing.delete(lookup.key));
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
  ): Promise<Loaded | "serve-stale"> {
    const flight = this.joinOrStartLoad(lookup, ctx);
    // A private answer belongs to the request that caused it: followers ask the origin themselves.
    const pending = flight.leader
      ? flight.shared.promise
      : this.followLoad(lookup, flight.shared).then((loaded) =>
          loaded.source === "BYPASS" ? this.fetchFromOrigin(lookup, []) : loaded,
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
  private joinOrStartLoad(lookup: CacheLookup, ctx: WaitUntil): { shared: Flight; leader: boolean } {
    const current = this.inFlight.get(lookup.key);
    if (current && !this.invalidatedSince(lookup.tags, current.seqAtStart)) {
      return { shared: current, leader: false };
    }
    const seqAtStart = this.invalidationSeq;
    const flight: Flight = share(
      this.loadBelowL1(lookup, ctx, seqAtStart).finally(() => {
        if (this.inFlight.get(lookup.key) === flight) this.inFlight.delete(lookup.key);
      }),
      { seqAtStart },
    );
    this.inFlight.set(lookup.key, flight);
    return { shared: flight, leader: true };
  }

  /** What a follower of another request's load gets: its answer, or a timeout past the load's own limits. */
  private async followLoad(lookup: CacheLookup, flight: Flight): Promise<Loaded> {
    const limitMs = this.options.l2HardTimeoutMs + this.options.originTimeoutMs + SHARED_WAIT_MARGIN_MS;
    const outcome = await this.waitInOwnContext(flight, limitMs);
    if (!outcome) {
      if (this.inFlight.get(lookup.key) === flight) this.inFlight.delete(lookup.key);
      throw new TimeoutError(`the shared load of ${lookup.key} did not settle within ${limitMs} ms`);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Waits for work another request started (the log read, a single-flight load) by looking at
   * its outcome on timers of this request's own, never by awaiting the other request's promise.
   * In workerd, code awaiting a promise another request resolves may resume in that request's
   * I/O context: its Response then fails with "Cannot perform I/O on behalf of a different
   * request", or the request is cancelled as hung once the other one has finished (before this,
   * 31 of 25,000 answers of `npm run bench`'s mix failed so). Resolves with the outcome, or
   * undefined past `limitMs`.
   */
  private async waitInOwnContext<T>(
    shared: Shared<T>,
    limitMs: number,
  ): Promise<NonNullable<Shared<T>["outcome"]> | undefined> {
    // Time waited is summed from the timers, not read from the clock: tests move an injected clock.
    let waited = 0;
    let delay = 1;
    while (!shared.outcome) {
      if (waited > limitMs) return undefined;
      await new Promise<void>((resolve) => this.timers.setTimeout(resolve, delay));
      waited += delay;
      delay = Math.min(delay * 2, SHARED_POLL_MAX_MS);
    }
    return shared.outcome;
  }

  private invalidatedSince(tags: readonly string[], seq: number): boolean {
    return this.clearedAtSeq > seq || tags.some((tag) => (this.tagInvalidatedAt.get(tag) ?? 0) > seq);
  }

  private async loadBelowL1(lookup: CacheLookup, ctx: WaitUntil, seqAtStart: number): Promise<Loaded> {
    const cursorAtStart = this.cursor;
    const timings: TierTiming[] = [];

    if (this.breaker.allow()) {
      const started = this.options.clock.now();
      try {
        this.stats.redisCommands += 1;
        const record = await withTimeout(
          this.options.l2.get(lookup.l2Key),
          this.options.l2HardTimeoutMs,
          this.timers,
          "Redis read",
        );
        this.breaker.success();
        timings.push({ tier: "l2", ms: this.options.clock.now() - started });
        if (record) {
          this.stats.hits.l2 += 1;
          const etag = await strongEtag(record.body);
          const loaded: Loaded = {
            status: 200,
            body: record.body,
            contentType: JSON_TYPE,
            source: "L2",
            storable: true,
            etag,
            version: record.version,
            timings,
          };
          this.fillL1(lookup, loaded, seqAtStart);
          return loaded;
        }
        this.stats.misses.l2 += 1;
      } catch (error) {
        timings.push({ tier: "l2", ms: this.options.clock.now() - started });
        this.recordRedisFailure(error);
      }
    }

    const loaded = await this.fetchFromOrigin(lookup, timings);
    if (loaded.storable) {
      this.fillL1(lookup, loaded, seqAtStart);
      if (cursorAtStart !== undefined && this.breaker.allow()) {
        ctx.waitUntil(this.fillL2(lookup, loaded, cursorAtStart));
      }
    }
    return loaded;
  }

  private async fetchFromOrigin(lookup: CacheLookup, timings: TierTiming[]): Promise<Loaded> {
    const started = this.options.clock.now();
    const controller = new AbortController();
    const timer = this.timers.setTimeout(() => controller.abort(), this.options.originTimeoutMs);
    let response: Response;
    let body: string;
    try {
      response = await this.options.fetchOrigin(lookup.originPath, controller.signal);
      body = await response.text();
    } catch (error) {
      this.stats.originErrors += 1;
      throw new OriginUnavailableError(
        controller.signal.aborted
          ? `origin did not answer within ${this.options.originTimeoutMs} ms`
          : `origin request failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      this.timers.clearTimeout(timer);
      timings.push({ tier: "origin", ms: this.options.clock.now() - started });
    }
    if (response.status >= 500) {
      this.stats.originErrors += 1;
      throw new OriginUnavailableError(`origin answered ${response.status}`);
    }
    const contentType = response.headers.get("content-type") ?? JSON_TYPE;
    if (isPrivateResponse(response)) {
      this.stats.bypass += 1;
      const passHeaders: Record<string, string> = {};
      for (const name of ["cache-control", "set-cookie", "vary"]) {
        const value = response.headers.get(name);
        if (value) passHeaders[name] = value;
      }
      return {
        status: response.status,
        body,
        contentType,
        source: "BYPASS",
        storable: false,
        etag: undefined,
        version: 0,
        timings,
        passHeaders,
      };
    }
    this.stats.hits.origin += 1;
    const storable = response.status === 200;
    const version = Number(response.headers.get("x-origin-version") ?? 0);
    return {
      status: response.status,
      body,
      contentType,
      source: "ORIGIN",
      storable,
      etag: storable ? await strongEtag(body) : undefined,
      version: Number.isFinite(version) && version > 0 ? version : 0,
      timings,
    };
  }

  private fillL1(lookup: CacheLookup, loaded: Loaded, seqAtStart: number): void {
    // An invalidation that arrived while this value was in flight makes it suspect: keep it out of L1.
    if (this.invalidatedSince(lookup.tags, seqAtStart)) return;
    if (!loaded.etag) return;
    this.l1.set(lookup.key, {
      body: loaded.body,
      etag: loaded.etag,
      tags: lookup.tags,
      dataClass: lookup.dataClass,
      contentType: loaded.contentType,
      filledAt: this.options.clock.now(),
      invalidated: false,
    });
    // lru-cache refuses an entry larger than its byte budget; index only what it kept.
    if (!this.l1.has(lookup.key)) return;
    for (const tag of lookup.tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
      }
      keys.add(lookup.key);
    }
  }

  private async fillL2(lookup: CacheLookup, loaded: Loaded, sinceLogId: string): Promise<void> {
    try {
      this.stats.redisCommands += 1;
      const outcome = await withTimeout(
        this.options.l2.fill(
          lookup.l2Key,
          {
            version: loaded.version,
            body: loaded.body,
            tags: lookup.tags,
            storedAt: this.options.clock.now(),
          },
          {
            ttlSeconds: this.options.policies[lookup.dataClass].l2TtlSeconds,
            sinceLogId,
            indexed: lookup.indexed,
          },
        ),
        this.options.l2HardTimeoutMs,
        this.timers,
        "Redis fill",
      );
      this.breaker.success();
      if (outcome !== "stored") this.stats.fillsRefused[outcome] += 1;
    } catch (error) {
      this.recordRedisFailure(error);
    }
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }

  private recordRedisFailure(error: unknown): void {
    this.stats.redisErrors += 1;
    this.breaker.failure();
    if (!(error instanceof TimeoutError)) this.logger.warn("Redis call failed", error);
  }

  private answerFromL1(
    entry: L1Entry,
    lookup: CacheLookup,
    source: "L1" | "STALE",
    timings: TierTiming[],
    staleReason?: "revalidating" | "error",
  ): CacheAnswer {
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

  private answerFromLoaded(loaded: Loaded, lookup: CacheLookup, timings: TierTiming[]): CacheAnswer {
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
