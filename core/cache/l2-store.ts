/**
 * L2 (Redis, read over the Upstash REST API) as the tiered cache needs it: read a
 * record, fill one without ever overwriting newer data, read the invalidation log
 * since a cursor, and read tags' versions. Each operation is exactly one Redis command.
 */
import type { Redis } from "@upstash/redis";
import { compareStreamIds, decodeLogEntry, type InvalidationLogEntry } from "../invalidation-log";
import type { Keyspace } from "../keys";
import { decodeL2Record, encodeL2Record, type L2Record } from "../read-model";
import { FILL_OUTCOMES, type FillOutcome } from "../redis/fields";
import { FILL_SCRIPT } from "../redis/fill-script";
import { READ_LISTINGS_SCRIPT, VIEW_READ_OUTCOMES } from "../redis/listing-views";
import { READ_LOG_SCRIPT } from "../redis/read-log-script";
import { READ_RECORDS_SCRIPT } from "../redis/read-records-script";
import { recordArguments } from "../redis/record-hash";

export type { FillOutcome };

export interface LogRead {
  /** The newest id the log ever had (the cursor to keep). */
  readonly lastId: string;
  /** The log's epoch (core/keys.ts `logEpoch`): the one to pass with the cursor from now on. */
  readonly epoch: string;
  /** Entries after the cursor, oldest first. */
  readonly entries: readonly InvalidationLogEntry[];
  /** Entries after the cursor may have been trimmed away, or there were more than asked for: clear L1. */
  readonly lost: boolean;
  /**
   * Lost because this is not the log the cursor was read from: another epoch (Redis came back
   * empty, the keyspace was replaced), a log behind the cursor, or the cursor's own entry gone
   * with nothing in the log to account for it (a replica that was behind took over). Implies `lost`.
   */
  readonly reset: boolean;
}

/** Where a reader is in the log: a cursor and the epoch it was read in. */
export interface LogPosition {
  readonly cursor: string;
  readonly epoch: string;
}

/** A list's view: its key (core/keys.ts `listingView`, `collectionView`) and how many items it shows. */
export interface ListingView {
  readonly key: string;
  /** A GPU listing's `limit`; 0 for a collection view, whose list is all of its records. */
  readonly limit: number;
}

/** Listings read from their views (core/redis/listing-views.ts). */
export type ListingViewsRead =
  | {
      readonly outcome: "ok";
      readonly warmedAt: number;
      /**
       * Per view asked, in order: the list's body, or undefined when a listed record is gone (a
       * derived record an event dropped) or, for a GPU, moved past its view (a lost event).
       */
      readonly bodies: ReadonlyArray<string | undefined>;
    }
  /** Never warmed, or lost with Redis: the origin answers, and a warm should start. */
  | { readonly outcome: "not-ready" };

/** A record's body and ETag, as the read-records script gives them. */
export interface StoredBody {
  readonly body: string;
  readonly etag: string | undefined;
}

export interface L2Store {
  get(key: string): Promise<L2Record | undefined>;
  /** The bodies of many records in one script call, in the order given; undefined for a missing one. */
  getMany(keys: readonly string[]): Promise<Array<StoredBody | undefined>>;
  /** Each list from its view (the first `limit` GPUs, or a whole collection), as the origin's bodies: one script call. */
  readListings(views: readonly ListingView[]): Promise<ListingViewsRead>;
  /**
   * Stores a record unless Redis holds a newer version, or the invalidation log has an
   * entry after `sinceLogId` naming one of its tags (an event won the race with this fill),
   * or `sinceLogId` is no longer in the log (its entry gone, or `logEpoch` is not the log's).
   * `indexed` registers the key under its tags so an event can drop it (aggregate responses).
   */
  fill(
    key: string,
    record: L2Record,
    options: { ttlSeconds: number; sinceLogId: string; logEpoch: string; indexed: boolean },
  ): Promise<FillOutcome>;
  /**
   * `cursor` undefined asks only for the current end of the log. `epoch`, the one the cursor
   * was read in, lets the read tell a reset log from the same one.
   */
  readLog(cursor: string | undefined, maxEntries: number, epoch?: string): Promise<LogRead>;
  /**
   * The version of each tag (core/tag-versions.ts: the log id of the newest event naming it),
   * in the order given; undefined for a tag no event named (or whose version expired).
   */
  tagVersions(tags: readonly string[]): Promise<Array<string | undefined>>;
}

/**
 * `redis` must be built with `automaticDeserialization: false`: bodies are JSON text
 * and must come back byte for byte, not parsed.
 */
export function createRedisL2Store(
  redis: Redis,
  keys: Keyspace,
  options: {
    /** The epoch a read sets when the log has none (default: a random UUID). */
    readonly newEpoch?: () => string;
  } = {},
): L2Store {
  const newEpoch = options.newEpoch ?? (() => crypto.randomUUID());
  const fillScript = redis.createScript<string>(FILL_SCRIPT);
  const readListingsScript = redis.createScript<string[]>(READ_LISTINGS_SCRIPT);
  const readRecordsScript = redis.createScript<string[]>(READ_RECORDS_SCRIPT);
  const readLogScript =
    redis.createScript<[string, string, Array<[string, unknown[]]>, string?, number?, string?]>(
      READ_LOG_SCRIPT,
    );
  return {
    async get(key) {
      // Without automatic deserialization the client hands HGETALL back as Redis sends it: [field, value, …].
      const reply: unknown = await redis.hgetall(key);
      if (!Array.isArray(reply)) return decodeL2Record(reply as Record<string, unknown> | null);
      const fields: Record<string, unknown> = {};
      for (let index = 0; index + 1 < reply.length; index += 2)
        fields[String(reply[index])] = reply[index + 1];
      return decodeL2Record(reply.length === 0 ? null : fields);
    },

    async getMany(keys) {
      if (keys.length === 0) return [];
      const reply = await readRecordsScript.exec([...keys], []);
      return keys.map((_, index) => {
        const body = reply[2 * index];
        const etag = reply[2 * index + 1];
        if (typeof body !== "string" || body === "") return undefined;
        return { body, etag: typeof etag === "string" && etag !== "" ? etag : undefined };
      });
    },

    async readListings(views) {
      const [outcome, warmedAt, ...bodies] = await readListingsScript.exec(
        [keys.viewMembers, keys.viewsWarmedAt, ...views.map((view) => view.key)],
        views.map((view) => String(view.limit)),
      );
      if (outcome !== VIEW_READ_OUTCOMES.ok) return { outcome: "not-ready" };
      return {
        outcome: "ok",
        warmedAt: Number(warmedAt),
        bodies: views.map((_, index) => {
          const body = bodies[index];
          return typeof body === "string" && body.startsWith("{") ? body : undefined;
        }),
      };
    },

    async fill(key, record, options) {
      const indexKeys = options.indexed ? record.tags.map((tag) => keys.tagIndex(tag)) : [];
      const ttlMs = String(Math.max(1, Math.round(options.ttlSeconds * 1000)));
      const outcome = await fillScript.exec(
        [key, keys.invalidationLog, keys.logEpoch, ...indexKeys],
        [
          ...recordArguments(encodeL2Record(record), ttlMs),
          options.sinceLogId,
          options.logEpoch,
          ...record.tags,
        ],
      );
      return outcome === FILL_OUTCOMES.older || outcome === FILL_OUTCOMES.raced
        ? outcome
        : FILL_OUTCOMES.stored;
    },

    async readLog(cursor, maxEntries, epoch) {
      const [lastId, maxDeleted, rawEntries, firstId = "", removed = -1, logEpoch = ""] =
        await readLogScript.exec(
          [keys.invalidationLog, keys.logEpoch],
          [cursor ?? "", String(maxEntries), newEpoch()],
        );
      const currentEpoch = String(logEpoch);
      if (cursor === undefined)
        return { lastId, epoch: currentEpoch, entries: [], lost: false, reset: false };
      const read = (rawEntries ?? []).map(([id, fields]) => decodeLogEntry(String(id), fields ?? []));
      const cursorKept = read[0]?.id === cursor;
      const entries = read.filter((entry) => entry.id !== cursor);
      // Trimming removes from the head: entries were removed and what is left starts after the
      // cursor (or nothing is left though entries came after it). Cautious when the count is unknown.
      const trimmedPastCursor =
        removed !== 0 && compareStreamIds(firstId === "" ? lastId : firstId, cursor) > 0;
      const reset =
        // Another log's lifetime: Redis came back empty, or the keyspace was replaced.
        (epoch !== undefined && currentEpoch !== epoch) ||
        // Behind the cursor: the log was deleted, or a replica that had not caught up took over.
        compareStreamIds(lastId, cursor) < 0 ||
        // Entries came after the cursor, yet its own entry is gone and nothing says how: no XDEL
        // reached it and no trimming passed it. This log never had it (a replica behind, same epoch).
        (cursor !== "0-0" &&
          !cursorKept &&
          compareStreamIds(lastId, cursor) > 0 &&
          compareStreamIds(maxDeleted, cursor) < 0 &&
          !trimmedPastCursor);
      const lost =
        reset ||
        // XDEL removed an entry after the cursor.
        compareStreamIds(maxDeleted, cursor) > 0 ||
        trimmedPastCursor ||
        entries.length > maxEntries;
      return { lastId, epoch: currentEpoch, entries: lost ? [] : entries, lost, reset };
    },

    async tagVersions(tags) {
      if (tags.length === 0) return [];
      const reply: unknown = await redis.mget(...tags.map((tag) => keys.tagVersion(tag)));
      const values = Array.isArray(reply) ? reply : [];
      return tags.map((_, index) => {
        const value: unknown = values[index];
        return value === null || value === undefined ? undefined : String(value);
      });
    },
  };
}
