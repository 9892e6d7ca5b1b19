/**
 * The read-log script (core/cache/l2-store.ts `readLog`): the end of the invalidation
 * log and, from a cursor, the entries after it, with what the caller needs to tell
 * whether entries after the cursor were removed unseen, and the log's epoch.
 *
 * KEYS: 1 log, 2 log epoch. ARGV: cursor ('' = only report the end), max entries, the epoch to
 * set when there is none.
 * Reply: {lastId, maxDeletedId, entries, firstId, removed, epoch}.
 *
 * max-deleted-entry-id (Redis 7) only moves on XDEL, not when MAXLEN trims the head, so the
 * script also returns the first entry's id and how many entries were ever removed
 * (entries-added - length; -1 when unknown) for the trimming check.
 * XRANGE from the cursor includes the cursor's own entry: max + 2 to see more than max after it.
 *
 * The epoch (core/keys.ts `logEpoch`) stands for this log's lifetime. A Redis that came back
 * empty, or a keyspace replaced under the Worker, has none, so the first read after it sets a
 * new one (the caller's random id), and an isolate holding the old one knows its cursor belongs
 * to another log, even a cursor of 0-0 on a log that is empty again. Scripts run on the
 * primary, so the read may write it; it writes only when the key is missing.
 */
export const READ_LOG_SCRIPT = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[2], epoch)
end
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
if ARGV[1] == '' or not ok then return {lastId, maxDeleted, {}, firstId, removed, epoch} end
return {lastId, maxDeleted, redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]) + 2), firstId, removed, epoch}
`;
