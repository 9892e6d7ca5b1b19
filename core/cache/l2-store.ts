/**
 * L2 (Redis, read over the Upstash REST API) as the tiered cache needs it: read a
 * record, fill one without ever overwriting newer data, and read the invalidation
 * log since a cursor. Each operation is exactly one Redis command.
 */
import type { Redis } from "@upstash/redis";
import { compareStreamIds, decodeLogEntry, type InvalidationLogEntry } from "../invalidation-log";
import type { Keyspace } from "../keys";
import { decodeL2Record, encodeL2Record, L2_FIELDS, type L2Record } from "../read-model";

export type FillOutcome = "stored" | "older" | "raced";

export interface LogRead {
  /** The newest id the log ever had (the cursor to keep). */
  readonly lastId: string;
  /** Entries after the cursor, oldest first. */
  readonly entries: readonly InvalidationLogEntry[];
  /** Entries after the cursor may have been trimmed away, or there were more than asked for: clear L1. */
  readonly lost: boolean;
}

export interface L2Store {
  get(key: string): Promise<L2Record | undefined>;
  /**
   * Stores a record unless Redis holds a newer version, or the invalidation log has an
   * entry after `sinceLogId` naming one of its tags (an event won the race with this fill).
   * `indexTags` registers the key under those tags so an event can drop it (aggregate responses).
   */
  fill(
    key: string,
    record: L2Record,
    options: { ttlSeconds: number; sinceLogId: string; indexed: boolean },
  ): Promise<FillOutcome>;
  /** `cursor` undefined asks only for the current end of the log. */
  readLog(cursor: string | undefined, maxEntries: number): Promise<LogRead>;
}

// KEYS: 1 value, 2 log, 3.. tag index keys. ARGV: version, body, tags, storedAt, ttlMs, sinceId, then tags.
const FILL_SCRIPT = `
local version = tonumber(ARGV[1])
local existing = tonumber(redis.call('HGET', KEYS[1], '${L2_FIELDS.version}') or '-1')
if existing >= 0 and version > 0 and existing >= version then return 'older' end
if ARGV[6] ~= '' then
  local wanted = {}
  for i = 7, #ARGV do wanted[ARGV[i]] = true end
  local entries = redis.call('XRANGE', KEYS[2], ARGV[6], '+', 'COUNT', 1001)
  if #entries > 1000 then return 'raced' end
  -- Trimming removes from the head: while the cursor's own entry is there, nothing after it is
  -- gone. Without it (or from the empty-log cursor 0-0), entries may have been trimmed unseen.
  if ARGV[6] ~= '0-0' and (#entries == 0 or entries[1][1] ~= ARGV[6]) then return 'raced' end
  if ARGV[6] == '0-0' then
    local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[2])
    if ok then
      local length, added = 0, 0
      for i = 1, #info, 2 do
        if info[i] == 'length' then length = info[i + 1] end
        if info[i] == 'entries-added' then added = info[i + 1] end
      end
      if added > length then return 'raced' end
    end
  end
  for _, entry in ipairs(entries) do
    if entry[1] ~= ARGV[6] then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'tags' then
          for tag in string.gmatch(fields[i + 1], '%S+') do
            if wanted[tag] then return 'raced' end
          end
        end
      end
    end
  end
end
redis.call('HSET', KEYS[1], '${L2_FIELDS.version}', ARGV[1], '${L2_FIELDS.body}', ARGV[2], '${L2_FIELDS.tags}', ARGV[3], '${L2_FIELDS.storedAt}', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
end
return 'stored'
`;

// KEYS: 1 log. ARGV: cursor ('' = only report the end), max entries.
// max-deleted-entry-id (Redis 7) only moves on XDEL, not when MAXLEN trims the head, so the
// script also returns the first entry's id and how many entries were ever removed
// (entries-added - length; -1 when unknown) for the trimming check.
// XRANGE from the cursor includes the cursor's own entry: max + 2 to see more than max after it.
const READ_LOG_SCRIPT = `
local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])
local lastId, maxDeleted, firstId, removed = '0-0', '0-0', '', -1
if ok then
  local length, added
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then lastId = info[i + 1] end
    if info[i] == 'max-deleted-entry-id' then maxDeleted = info[i + 1] end
    if info[i] == 'first-entry' and info[i + 1] then firstId = info[i + 1][1] end
    if info[i] == 'length' then length = info[i + 1] end
    if info[i] == 'entries-added' then added = info[i + 1] end
  end
  if length and added then removed = added - length end
end
if ARGV[1] == '' or not ok then return {lastId, maxDeleted, {}, firstId, removed} end
return {lastId, maxDeleted, redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]) + 2), firstId, removed}
`;

/**
 * `redis` must be built with `automaticDeserialization: false`: bodies are JSON text
 * and must come back byte for byte, not parsed.
 */
export function createRedisL2Store(redis: Redis, keys: Keyspace): L2Store {
  const fillScript = redis.createScript<string>(FILL_SCRIPT);
  const readLogScript =
    redis.createScript<[string, string, Array<[string, unknown[]]>, string?, number?]>(READ_LOG_SCRIPT);
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

    async fill(key, record, options) {
      const fields = encodeL2Record(record);
      const indexKeys = options.indexed ? record.tags.map((tag) => keys.tagIndex(tag)) : [];
      const outcome = await fillScript.exec(
        [key, keys.invalidationLog, ...indexKeys],
        [
          fields[L2_FIELDS.version] ?? "0",
          fields[L2_FIELDS.body] ?? "",
          fields[L2_FIELDS.tags] ?? "",
          fields[L2_FIELDS.storedAt] ?? "0",
          String(Math.max(1, Math.round(options.ttlSeconds * 1000))),
          options.sinceLogId,
          ...record.tags,
        ],
      );
      return outcome === "older" || outcome === "raced" ? outcome : "stored";
    },

    async readLog(cursor, maxEntries) {
      const [lastId, maxDeleted, rawEntries, firstId = "", removed = -1] = await readLogScript.exec(
        [keys.invalidationLog],
        [cursor ?? "", String(maxEntries)],
      );
      if (cursor === undefined) return { lastId, entries: [], lost: false };
      const entries = (rawEntries ?? [])
        .map(([id, fields]) => decodeLogEntry(String(id), fields ?? []))
        .filter((entry) => entry.id !== cursor);
      const lost =
        // XDEL removed an entry after the cursor.
        compareStreamIds(maxDeleted, cursor) > 0 ||
        // Trimming removes from the head: entries were removed and what is left starts after the
        // cursor (or nothing is left though entries came after it). Cautious when the count is unknown.
        (removed !== 0 && compareStreamIds(firstId === "" ? lastId : firstId, cursor) > 0) ||
        entries.length > maxEntries ||
        // The log was deleted or reset behind the cursor.
        compareStreamIds(lastId, cursor) < 0;
      return { lastId, entries: lost ? [] : entries, lost };
    },
  };
}
