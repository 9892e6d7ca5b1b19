/**
 * The apply-event script (lambdas/events/apply.ts): one event's whole Redis step,
 * all or nothing: dedupe, version check, write-through of the new records, removal of
 * derived records and of the aggregate responses indexed under its tags, one
 * invalidation-log entry carrying the written entity records (core/redis/fields.ts
 * LOG_RECORD_FIELD_PREFIX) so isolates replace their copies in place, the listing views of every
 * GPU it wrote and the collection views of every price, stats and order-book record
 * (core/redis/listing-views.ts), the entry's id as the version of every tag it names
 * (core/tag-versions.ts: the Worker's refills ask the origin for it), one PUBLISH, then the
 * applied-event marker.
 * Replies {status, marker state or PURGES_OWED, log id when it wrote one}.
 *
 * KEYS: 1 applied marker, 2 version key ('' = none), 3 log.
 * ARGV: 1 event version, 2 marker ttl ms, 3 channel, 4 log max length, 5 tags, 6 event id, 7 at,
 *       8 #writes, 9 #deletes, 10 #tags, 11 message without its id (JSON text, spliced rather than built with cjson),
 *       12 tag-version ttl ms, 13 listing view prefix, 14 view members key,
 *       then per write: key, then its record (core/redis/record-hash.ts: version, body, tags,
 *       storedAt, etag, ttlMs), the tag to push it under in the log entry ('' = not pushed: over
 *       the entry's size cap), its view argument ('' = not a GPU), the collection views it is
 *       listed in (space-separated, '' = none); then delete keys; then tag index keys; then tag-version keys (as many,
 *       in the same order: the keys are passed, like the index keys, not built in Lua).
 * Redis keeps what a script wrote before a command fails, so every key is checked (type, stored
 * version) before the first write: a key of the wrong type fails the event with nothing written.
 * Tag-version keys need no check: SET replaces a key of any type.
 */
import {
  APPLY_STATUSES,
  EVENT_MARKER_STATES,
  LOG_FIELDS,
  LOG_RECORD_FIELD_PREFIX,
  PURGES_OWED,
} from "./fields";
import { addToCollectionsLua, INDEX_GPU_LUA, indexFromArgumentLua } from "./listing-views";
import { RECORD_ARGUMENT_COUNT, storedVersionLua, writeRecordLua } from "./record-hash";

/** ARGV slot of the first write's key; each write is its key followed by its record. */
const FIRST_WRITE_ARGUMENT = 15;
const WRITE_ARGUMENT_COUNT = 4 + RECORD_ARGUMENT_COUNT;
const PUSH_TAG = `ARGV[w + ${1 + RECORD_ARGUMENT_COUNT}]`;
const VIEW_ARGUMENT = `ARGV[w + ${2 + RECORD_ARGUMENT_COUNT}]`;
const COLLECTIONS_ARGUMENT = `ARGV[w + ${3 + RECORD_ARGUMENT_COUNT}]`;

/** Slot `offset` of the record of the write whose key is at ARGV[w]. */
const recordArgument = (offset: number) => `ARGV[w + ${1 + offset}]`;
/** The record slots the log entry repeats: body and etag (record-hash.ts order). */
const BODY = recordArgument(1);
const ETAG = recordArgument(4);

export const APPLY_EVENT_SCRIPT = `
${INDEX_GPU_LUA}
local function refuse(key, wanted)
  local found = redis.call('TYPE', key)
  if type(found) == 'table' then found = found.ok end
  if found ~= 'none' and found ~= wanted then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. wanted)
  end
end
local marker = redis.call('GET', KEYS[1])
if marker then return {'${APPLY_STATUSES.duplicate}', marker} end
local version = tonumber(ARGV[1])
if KEYS[2] ~= '' then
  local stored = ${storedVersionLua("KEYS[2]")}
  if stored >= version then
    redis.call('SET', KEYS[1], '${EVENT_MARKER_STATES.purged}', 'PX', ARGV[2])
    return {'${APPLY_STATUSES.stale}', '${EVENT_MARKER_STATES.purged}'}
  end
end
local refused = refuse(KEYS[3], 'stream') or refuse(ARGV[14], 'hash')
if refused then return refused end
local writes = {}
local i = ${FIRST_WRITE_ARGUMENT}
for _ = 1, tonumber(ARGV[8]) do
  refused = refuse(ARGV[i], 'hash')
  if refused then return refused end
  local stored = ${storedVersionLua("ARGV[i]")}
  if stored < tonumber(ARGV[i + 1]) then writes[#writes + 1] = i end
  i = i + ${WRITE_ARGUMENT_COUNT}
end
local deletes = i
i = i + tonumber(ARGV[9])
for _ = 1, tonumber(ARGV[10]) do
  refused = refuse(ARGV[i], 'set')
  if refused then return refused end
  i = i + 1
end
local entry = {'${LOG_FIELDS.tags}', ARGV[5], '${LOG_FIELDS.eventId}', ARGV[6], '${LOG_FIELDS.at}', ARGV[7]}
for _, w in ipairs(writes) do
  ${writeRecordLua("ARGV[w]", recordArgument, "  ")}
  if ${VIEW_ARGUMENT} ~= '' then
    ${indexFromArgumentLua("ARGV[13]", "ARGV[14]", "ARGV[w]", VIEW_ARGUMENT, "    ")}
  end
  ${addToCollectionsLua("ARGV[w]", COLLECTIONS_ARGUMENT, "  ")}
  if ${PUSH_TAG} ~= '' then
    entry[#entry + 1] = '${LOG_RECORD_FIELD_PREFIX}' .. ${PUSH_TAG}
    entry[#entry + 1] = ${ETAG} .. ' ' .. ${BODY}
  end
end
i = deletes
for _ = 1, tonumber(ARGV[9]) do
  redis.call('DEL', ARGV[i])
  i = i + 1
end
for _ = 1, tonumber(ARGV[10]) do
  local members = redis.call('SMEMBERS', ARGV[i])
  for _, member in ipairs(members) do redis.call('DEL', member) end
  redis.call('DEL', ARGV[i])
  i = i + 1
end
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(entry))
for _ = 1, tonumber(ARGV[10]) do
  redis.call('SET', ARGV[i], id, 'PX', ARGV[12])
  i = i + 1
end
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '",' .. string.sub(ARGV[11], 2))
redis.call('SET', KEYS[1], '${EVENT_MARKER_STATES.applied}', 'PX', ARGV[2])
return {'${APPLY_STATUSES.applied}', '${PURGES_OWED}', id}
`;
