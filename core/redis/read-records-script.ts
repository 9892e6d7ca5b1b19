/**
 * The read-records script (core/cache/l2-store.ts `getMany`): the body and ETag of many records
 * in one call, for the entries a sync dropped that are still in use (core/cache/dropped-refresh.ts).
 * One script, not a pipeline of HMGETs: Upstash bills each command of a pipeline, a script once.
 *
 * KEYS: the record keys. Reply: per key its body and its ETag, '' for a missing one (a body is
 * JSON text, never empty; Lua would cut a reply at a nil).
 */
import { L2_FIELDS } from "./fields";

export const READ_RECORDS_SCRIPT = `
local reply = {}
for _, key in ipairs(KEYS) do
  local record = redis.call('HMGET', key, '${L2_FIELDS.body}', '${L2_FIELDS.etag}')
  reply[#reply + 1] = record[1] or ''
  reply[#reply + 1] = record[2] or ''
end
return reply
`;
