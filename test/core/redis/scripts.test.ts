/**
 * The Redis scripts of core/redis: each one's SHA-1 is pinned (core/redis/scripts.ts),
 * and each spells the storage format's names only through core/redis/fields.ts, so the
 * Lua agrees with the codecs (core/read-model.ts, core/invalidation-log.ts) by
 * construction. Their behaviour is tested against Redis in test/core/cache/l2-store.test.ts,
 * test/lambdas/events/apply.test.ts and test/lambdas/purge/workers-cache/token-bucket.test.ts.
 */
import { describe, expect, it } from "vitest";
import { encodeLogFields } from "../../../core/invalidation-log";
import { LISTING_ORDERS, VIEW_ANY } from "../../../core/keys";
import { encodeL2Record } from "../../../core/read-model";
import {
  APPLY_STATUSES,
  EVENT_MARKER_STATES,
  FILL_OUTCOMES,
  L2_FIELDS,
  LOG_FIELDS,
  LOG_RECORD_FIELD_PREFIX,
  PURGES_OWED,
} from "../../../core/redis/fields";
import { VIEW_READ_OUTCOMES } from "../../../core/redis/listing-views";
import { recordArguments } from "../../../core/redis/record-hash";
import { REDIS_SCRIPTS } from "../../../core/redis/scripts";

type ScriptName = keyof typeof REDIS_SCRIPTS;

/** Web Crypto, as the Redis client hashes a script (core stays free of node:crypto). */
async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Every single-quoted Lua string in a script, comments left out (none holds an escaped quote). */
function quotedStrings(source: string): string[] {
  const code = source.replace(/--[^\n]*/g, "");
  return [...code.matchAll(/'([^']*)'/g)].map((match) => match[1] ?? "");
}

/** The quoted strings of each `redis.call('<command>', …)` of a script, in order. */
function callsOf(source: string, command: string): string[][] {
  return [...source.matchAll(new RegExp(`redis\\.call\\('${command}', ([^)]*)\\)`, "g"))].map((match) =>
    quotedStrings(match[1] ?? ""),
  );
}

/** The first quoted string of each `return {...}` / `return '...'`: what a script reports. */
function reportedStrings(source: string): string[] {
  return [...source.matchAll(/return \{?'([^']*)'/g)].map((match) => match[1] ?? "");
}

/**
 * What the scripts may spell themselves: Redis commands, their options and reply field
 * names, and Lua's own words. Anything else quoted in a script must come from
 * core/redis/fields.ts; a name hard-coded in Lua falls out of this list once its
 * constant changes.
 */
/** The Lua that indexes a GPU in the listing views (core/redis/listing-views.ts): its own patterns. */
const VIEW_INDEXING = [
  ...["HGET", "HSET", "ZREM", "ZADD", " ", ":", "%S+"],
  ...["^(%S+ %S+ %S+)", "^(%S+) (%S+) (%S+)$", "^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$"],
];

const REDIS_VOCABULARY: Record<ScriptName, readonly string[]> = {
  fill: [
    ...["HGET", "GET", "XRANGE", "XINFO", "HSET", "PEXPIRE", "SADD", "PTTL"],
    ...["+", "COUNT", "STREAM", "length", "entries-added", "0-0", "-1", "", "%S+"],
  ],
  readLog: [
    ...["GET", "SET", "XINFO", "XRANGE", "STREAM", "COUNT", "+", "0-0", ""],
    ...["last-generated-id", "max-deleted-entry-id", "first-entry", "length", "entries-added"],
  ],
  applyEvent: [
    ...["TYPE", "GET", "HGET", "SET", "HSET", "PEXPIRE", "DEL", "SMEMBERS", "XADD", "PUBLISH"],
    ...VIEW_INDEXING,
    ...["PX", "MAXLEN", "~", "*", "-1", ""],
    ...["table", "none", "stream", "hash", "set", "WRONGTYPE ", " holds a ", ", not a "],
    // The published message's JSON, around the entry id.
    ...['{"id":"', '",'],
  ],
  readRecords: ["HMGET", ""],
  readListings: [
    "GET",
    "ZRANGE",
    "HMGET",
    "HGET",
    "ZCARD",
    // A view key's filter (its last segments) and its members entry's state.
    "([^:]+):([^:]+):([^:]+):[^:]+$",
    "^(%S+) (%S+) (%S+) (%S+)$",
    "",
    '{"items":[',
    ",",
    '],"total":',
    "}",
    "]}",
  ],
  warmPage: [...VIEW_INDEXING, "HGET", "HSET", "PEXPIRE", "-1", "(%S+)$"],
  warmCollection: ["HGET", "HSET", "PEXPIRE", "ZADD", "-1", "%S+"],
  releaseWarmLock: ["GET", "DEL"],
  // Its own state, "<level> <at>", in one string: no storage-format names to share.
  tokenBucket: ["GET", "DEL", "SET", "PX", "^(%d+) (%d+)$", "%d %d"],
};

const SHARED_NAMES = new Set<string>([
  ...Object.values(L2_FIELDS),
  ...Object.values(LOG_FIELDS),
  ...Object.values(EVENT_MARKER_STATES),
  ...Object.values(APPLY_STATUSES),
  PURGES_OWED,
  ...Object.values(FILL_OUTCOMES),
  ...Object.values(VIEW_READ_OUTCOMES),
  LOG_RECORD_FIELD_PREFIX,
  ...LISTING_ORDERS,
  VIEW_ANY,
]);

const SAMPLE_RECORD = {
  version: 987_654,
  body: "body-text",
  tags: ["tag-a", "tag-b"],
  storedAt: 123_456,
  etag: '"e7a9"',
};
const SAMPLE_LOG_ENTRY = { tags: ["tag-a", "tag-b"], eventId: "event-id", at: 123_456 };

/** The hash fields encodeL2Record writes, in the order recordArguments lays their values out. */
function recordFieldsInArgumentOrder(): string[] {
  const encoded = encodeL2Record(SAMPLE_RECORD);
  return recordArguments(encoded, "1000")
    .slice(0, Object.keys(encoded).length)
    .map(
      (value) =>
        Object.keys(encoded).find((field) => encoded[field] === value) ?? `(no field holds ${value})`,
    );
}

/** The hash field encodeL2Record puts the version in. */
const versionField = () => {
  const encoded = encodeL2Record(SAMPLE_RECORD);
  return Object.keys(encoded).find((field) => encoded[field] === String(SAMPLE_RECORD.version));
};

describe("pinned script hashes", () => {
  it.each(Object.keys(REDIS_SCRIPTS) as ScriptName[])(
    "%s: the pinned SHA-1 is the script's (update the pin in core/redis/scripts.ts with the script)",
    async (name) => {
      const { source, sha1 } = REDIS_SCRIPTS[name];
      expect(await sha1Hex(source)).toBe(sha1);
    },
  );

  it("pins a distinct hash per script", () => {
    const hashes = Object.values(REDIS_SCRIPTS).map((script) => script.sha1);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe("the scripts spell the storage format only through core/redis/fields.ts", () => {
  it.each(Object.keys(REDIS_SCRIPTS) as ScriptName[])(
    "%s quotes only Redis words and shared names",
    (name) => {
      const allowed = new Set([...REDIS_VOCABULARY[name], ...SHARED_NAMES]);
      const stray = quotedStrings(REDIS_SCRIPTS[name].source).filter((text) => !allowed.has(text));
      expect(stray).toEqual([]);
    },
  );

  it.each(["fill", "applyEvent"] as const)(
    "%s writes a record hash with exactly the codec's fields, in argument order",
    (name) => {
      // The view index's HSET (listing-views.ts) writes a member's state, not a record field.
      const recordFields = new Set<string>(Object.values(L2_FIELDS));
      const writes = callsOf(REDIS_SCRIPTS[name].source, "HSET").filter((fields) =>
        fields.some((field) => recordFields.has(field)),
      );
      expect(writes).toEqual([recordFieldsInArgumentOrder()]);
      expect(writes[0]).toEqual(Object.values(L2_FIELDS));
    },
  );

  it.each(["fill", "applyEvent"] as const)(
    "%s reads stored versions from the codec's version field",
    (name) => {
      // HGETs of the view members hash name a record key, not a field.
      const reads = callsOf(REDIS_SCRIPTS[name].source, "HGET").filter((fields) => fields.length > 0);
      expect(reads.length).toBeGreaterThan(0);
      // HGET's `or '-1'` default sits outside the call.
      for (const fields of reads) expect(fields).toEqual([versionField()]);
    },
  );

  it("the apply-event script appends log entries with exactly the log codec's fields", () => {
    const { source } = REDIS_SCRIPTS.applyEvent;
    expect(callsOf(source, "XADD")).toEqual([["MAXLEN", "~", "*"]]);
    expect(source).toContain("'*', unpack(entry))");
    // The entry's fields: the codec's, then a pushed record per write under the codec's prefix.
    const entry = /local entry = \{([^}]*)\}/.exec(source)?.[1] ?? "";
    expect(quotedStrings(entry)).toEqual(Object.keys(encodeLogFields(SAMPLE_LOG_ENTRY)));
    expect(source).toContain(`entry[#entry + 1] = '${LOG_RECORD_FIELD_PREFIX}' ..`);
  });

  it("the fill script looks for racing tags in the field the log codec puts tags in", () => {
    const encoded = encodeLogFields(SAMPLE_LOG_ENTRY);
    const tagsField = Object.keys(encoded).find((field) => encoded[field] === "tag-a tag-b");
    expect(REDIS_SCRIPTS.fill.source).toContain(`if fields[i] == '${tagsField}' then`);
  });

  it("the apply-event script sets only marker states and reports only apply statuses", () => {
    const { source } = REDIS_SCRIPTS.applyEvent;
    // KEYS[1] is the applied marker; the other SETs write tag versions (the next test).
    const markerSets = [...source.matchAll(/redis\.call\('SET', KEYS\[1\], ([^)]*)\)/g)];
    const markers = markerSets.map((match) => quotedStrings(match[1] ?? "")[0]);
    expect(markers.sort()).toEqual(Object.values(EVENT_MARKER_STATES).sort());
    expect(callsOf(source, "SET")).toHaveLength(markerSets.length + 1);
    expect(new Set(reportedStrings(source))).toEqual(new Set(Object.values(APPLY_STATUSES)));
    // The purge state beside each status: a marker state, or "owed" for a fresh application.
    const purgeStates = [...source.matchAll(/return \{'[^']*', '([^']*)'/g)].map((match) => match[1]);
    expect(new Set(purgeStates)).toEqual(new Set([EVENT_MARKER_STATES.purged, PURGES_OWED]));
  });

  it("the apply-event script sets each tag version to the log entry's id, after appending it", () => {
    const { source } = REDIS_SCRIPTS.applyEvent;
    const append = source.indexOf("local id = redis.call('XADD'");
    const versionSet = source.indexOf("redis.call('SET', ARGV[i], id, 'PX', ARGV[12])");
    expect(append).toBeGreaterThan(-1);
    expect(versionSet).toBeGreaterThan(append);
    // The id is only read after the XADD that makes it; the loop runs once per tag.
    expect(source.slice(append, versionSet)).toContain("for _ = 1, tonumber(ARGV[10]) do");
  });

  it("the fill script reports only fill outcomes, every one of them", () => {
    expect(new Set(reportedStrings(REDIS_SCRIPTS.fill.source))).toEqual(
      new Set(Object.values(FILL_OUTCOMES)),
    );
  });
});
