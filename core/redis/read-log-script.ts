/**
 * The read-log script (core/cache/l2-store.ts `readLog`): the end of the invalidation
 * log and, from a cursor, the entries after it, with what the caller needs to tell
 * whether entries after the cursor were removed unseen.
 *
 * KEYS: 1 log. ARGV: cursor ('' = only report the end), max entries.
 * Reply: {lastId, maxDeletedId, entries, firstId, removed}.
 *
 * max-deleted-entry-id (Redis 7) only moves on XDEL, not when MAXLEN trims the head, so the
 * script also returns the first entry's id and how many entries were ever removed
 * (entries-added - length; -1 when unknown) for the trimming check.
 * XRANGE from the cursor includes the cursor's own entry: max + 2 to see more than max after it.
 */
export const READ_LOG_SCRIPT = `
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
