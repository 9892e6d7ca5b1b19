/**
 * The fill script (core/cache/l2-store.ts `fill`): stores a record the Worker read
 * from the origin unless Redis holds a newer version, or the invalidation log names
 * one of its tags after the fill's cursor (an event won the race with this fill), and
 * registers the key under its tag indexes. Replies with a FILL_OUTCOMES value.
 *
 * KEYS: 1 value, 2 log, 3 log epoch, 4.. tag index keys.
 * ARGV: the record's slots (core/redis/record-hash.ts: version, body, tags, storedAt, etag, ttlMs), sinceId, the epoch
 * sinceId belongs to (core/redis/read-log-script.ts), then tags.
 *
 * A fill whose position is no longer in the log cannot tell what happened since it read the
 * origin: the log was reset or replaced (another epoch, or none yet), or the position's entry is
 * gone. Storing then could put a copy from before an acknowledged event into a Redis that lost
 * the event's write, with no log entry left to drop it, so such a fill is refused as raced.
 */
import { FILL_OUTCOMES, LOG_FIELDS } from "./fields";
import { RECORD_ARGUMENT_COUNT, storedVersionLua, writeRecordLua } from "./record-hash";

/** The record's slots come first in ARGV. */
const recordArgument = (offset: number) => `ARGV[${1 + offset}]`;
const TTL = `ARGV[${RECORD_ARGUMENT_COUNT}]`;
const SINCE = `ARGV[${RECORD_ARGUMENT_COUNT + 1}]`;
const EPOCH = `ARGV[${RECORD_ARGUMENT_COUNT + 2}]`;
const FIRST_TAG = RECORD_ARGUMENT_COUNT + 3;

// A version of 0 is the origin's "no version": such a fill always writes.
export const FILL_SCRIPT = `
local version = tonumber(ARGV[1])
local existing = ${storedVersionLua("KEYS[1]")}
if existing >= 0 and version > 0 and existing >= version then return '${FILL_OUTCOMES.older}' end
if ${SINCE} ~= '' then
  if redis.call('GET', KEYS[3]) ~= ${EPOCH} then return '${FILL_OUTCOMES.raced}' end
  local wanted = {}
  for i = ${FIRST_TAG}, #ARGV do wanted[ARGV[i]] = true end
  local entries = redis.call('XRANGE', KEYS[2], ${SINCE}, '+', 'COUNT', 1001)
  if #entries > 1000 then return '${FILL_OUTCOMES.raced}' end
  -- Trimming removes from the head: while the cursor's own entry is there, nothing after it is
  -- gone. Without it (or from the empty-log cursor 0-0), entries may have been trimmed unseen,
  -- or this is a log that never had it (a replica that was behind took over, same epoch).
  if ${SINCE} ~= '0-0' and (#entries == 0 or entries[1][1] ~= ${SINCE}) then return '${FILL_OUTCOMES.raced}' end
  if ${SINCE} == '0-0' then
    local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[2])
    if ok then
      local length, added = 0, 0
      for i = 1, #info, 2 do
        if info[i] == 'length' then length = info[i + 1] end
        if info[i] == 'entries-added' then added = info[i + 1] end
      end
      if added > length then return '${FILL_OUTCOMES.raced}' end
    end
  end
  for _, entry in ipairs(entries) do
    if entry[1] ~= ${SINCE} then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == '${LOG_FIELDS.tags}' then
          for tag in string.gmatch(fields[i + 1], '%S+') do
            if wanted[tag] then return '${FILL_OUTCOMES.raced}' end
          end
        end
      end
    end
  end
end
${writeRecordLua("KEYS[1]", recordArgument)}
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(${TTL}) then redis.call('PEXPIRE', KEYS[i], ${TTL}) end
end
return '${FILL_OUTCOMES.stored}'
`;
