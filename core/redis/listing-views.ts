/**
 * The listing views (docs/architecture.md "Listings from views"): Redis keeps, for every
 * (region, type, status) filter with `*` for an absent one, three sorted sets of GPU record keys
 * (core/keys.ts `listingView`), by id (score 0, so members sort by key, which is by id), by price
 * (ties by id) and by performance (the score is minus the score, so ties sort by id as well).
 * These are the origin's listing orders, so a view answers `/v1/gpus` exactly as the origin
 * would, from one script call and no origin fetch.
 *
 * Writers: the apply-event script (each GPU record an event writes is re-indexed in the same
 * atomic step) and the warm script (a page of GPUs read from the origin). One reader: the
 * read-listing script. The Lua that indexes a GPU is here once and spliced into both writers.
 *
 * `viewMembers` remembers the state each GPU is indexed under (`region type status version`), so
 * a change removes it from the sets of its old state, and a reader can tell a record that moved
 * past its view (written by an origin fill after a lost event) from one the views describe.
 */
import { L2_FIELDS } from "./fields";
import { RECORD_ARGUMENT_COUNT, writeRecordLua } from "./record-hash";

/** The orders a listing view keeps (the listing route's `sort`, `id` when absent). */
export const LISTING_ORDERS = ["id", "price", "performance"] as const;
export type ListingOrder = (typeof LISTING_ORDERS)[number];
/** Stands for an absent filter in a view key, as in tags (core/tags.ts). */
export const VIEW_ANY = "*";
/** The list routes kept as collection views: price lists, stats lists, order books of a type. */
export type CollectionKind = "prices" | "stats" | "orderbooks";
/**
 * Lua expression for `Keyspace.listingView` from Lua expressions of its parts: `prefix` is
 * `listingViewPrefix` passed in, the others strings (`'*'` for an absent filter).
 */
export function listingViewKeyLua(
  prefix: string,
  region: string,
  gpuType: string,
  status: string,
  order: string,
): string {
  return `${prefix} .. ${region} .. ':' .. ${gpuType} .. ':' .. ${status} .. ':' .. ${order}`;
}

/**
 * Lua pattern, the inverse of `listingViewKeyLua`: a view key's region, type and status, its last
 * segments but the order (identifiers never hold ':', core/identifiers.ts).
 */
const VIEW_FILTER_OF_KEY_PATTERN = "([^:]+):([^:]+):([^:]+):[^:]+$";

/** What the read-listing script answers first. */
export const VIEW_READ_OUTCOMES = {
  ok: "ok",
  /** The views were never warmed (or Redis lost them): ask the origin, and warm them. */
  notReady: "not-ready",
  /** A listed record is missing, newer than its view, or indexed outside its filter: ask the origin. */
  incomplete: "incomplete",
} as const;
export type ViewReadOutcome = (typeof VIEW_READ_OUTCOMES)[keyof typeof VIEW_READ_OUTCOMES];

/**
 * Lua: `index_gpu(prefix, members, recordKey, region, gpuType, status, price, performance,
 * version)` puts a GPU into the 24 sets of its state (8 filters × 3 orders), with its scores,
 * and out of the sets of its previous state that the new one does not share.
 */
const SCORE_LUA: Readonly<Record<ListingOrder, string>> = {
  id: "0",
  price: "tonumber(price)",
  performance: "-tonumber(performance)",
};

export const INDEX_GPU_LUA = `
local VIEW_ORDERS = {${LISTING_ORDERS.map((order) => `'${order}'`).join(", ")}}
local ANY = '${VIEW_ANY}'
local function view_filters(region, gpu_type, status)
  return {
    {region, gpu_type, status}, {region, gpu_type, ANY}, {region, ANY, status}, {region, ANY, ANY},
    {ANY, gpu_type, status}, {ANY, gpu_type, ANY}, {ANY, ANY, status}, {ANY, ANY, ANY},
  }
end
local function index_gpu(prefix, members, record_key, region, gpu_type, status, price, performance, version)
  local state = region .. ' ' .. gpu_type .. ' ' .. status
  local old = redis.call('HGET', members, record_key)
  local old_state = old and string.match(old, '^(%S+ %S+ %S+)')
  if old_state and old_state ~= state then
    local kept = {}
    for _, f in ipairs(view_filters(region, gpu_type, status)) do kept[table.concat(f, ' ')] = true end
    local o_region, o_type, o_status = string.match(old_state, '^(%S+) (%S+) (%S+)$')
    for _, f in ipairs(view_filters(o_region, o_type, o_status)) do
      if not kept[table.concat(f, ' ')] then
        for _, order in ipairs(VIEW_ORDERS) do
          redis.call('ZREM', ${listingViewKeyLua("prefix", "f[1]", "f[2]", "f[3]", "order")}, record_key)
        end
      end
    end
  end
  local scores = {${LISTING_ORDERS.map((order) => `['${order}'] = ${SCORE_LUA[order]}`).join(", ")}}
  for _, f in ipairs(view_filters(region, gpu_type, status)) do
    for _, order in ipairs(VIEW_ORDERS) do
      redis.call('ZADD', ${listingViewKeyLua("prefix", "f[1]", "f[2]", "f[3]", "order")}, scores[order], record_key)
    end
  end
  redis.call('HSET', members, record_key, state .. ' ' .. version)
end
`;

/**
 * How a GPU's view fields travel to a script: one ARGV slot, space-separated (identifiers and
 * numbers hold no space), '' for a write that is not a GPU.
 */
export interface ViewedGpu {
  readonly gpuId: string;
  readonly region: string;
  readonly gpuType: string;
  readonly status: string;
  readonly pricePerHour: number;
  readonly performanceScore: number;
  readonly version: number;
}

export function gpuViewArgument(gpu: Omit<ViewedGpu, "gpuId">): string {
  return [gpu.region, gpu.gpuType, gpu.status, gpu.pricePerHour, gpu.performanceScore, gpu.version].join(" ");
}

/** Lua statement: index the GPU whose view argument is `argument` under `recordKey`. */
export function indexFromArgumentLua(
  prefix: string,
  members: string,
  recordKey: string,
  argument: string,
  indent = "",
): string {
  return [
    `do`,
    `  local r, t, s, p, f, v = string.match(${argument}, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')`,
    `  index_gpu(${prefix}, ${members}, ${recordKey}, r, t, s, p, f, v)`,
    `end`,
  ].join(`\n${indent}`);
}

/** Lua statement: add `recordKey` to every collection view named (space-separated) in `views`. */
export function addToCollectionsLua(recordKey: string, views: string, indent = ""): string {
  return [
    `for view in string.gmatch(${views}, '%S+') do`,
    `  redis.call('ZADD', view, 0, ${recordKey})`,
    `end`,
  ].join(`\n${indent}`);
}

/**
 * The read-listings script: one or more listings from their views, in one call (a request's miss
 * reads one; a sync that dropped many recently used listings re-reads them together).
 * KEYS: 1 viewMembers, 2 viewsWarmedAt, then one view per listing. ARGV: each listing's limit,
 * 0 for a collection view (all its records, no total, no version check: its members never move).
 * Reply: {'not-ready'} (never warmed, or lost with Redis), or {'ok', warmedAt, then per listing
 * its body as the origin spells it, `{"items":[…],"total":n}` (a collection: `{"items":[…]}`), or
 * 'incomplete' when a listed record is gone, or (a GPU) newer than its view, or indexed under a
 * state outside the view's filter}. A body starts with '{', so the two cannot be confused.
 *
 * The last check is for a GPU left behind in a view: its members entry lost (an eviction) and
 * its state changed afterwards, the index could not tell which sets to leave. Such a view asks the
 * origin rather than list, say, an offline GPU among the available ones.
 */
export const READ_LISTINGS_SCRIPT = `
local warmed = redis.call('GET', KEYS[2])
if not warmed then return {'${VIEW_READ_OUTCOMES.notReady}'} end
local function matches(filter, value) return filter == '${VIEW_ANY}' or filter == value end
local replies = {'${VIEW_READ_OUTCOMES.ok}', warmed}
for v = 3, #KEYS do
  local limit = tonumber(ARGV[v - 2])
  local collection = limit == 0
  local f_region, f_type, f_status = string.match(KEYS[v], '${VIEW_FILTER_OF_KEY_PATTERN}')
  local listed = redis.call('ZRANGE', KEYS[v], 0, collection and -1 or limit - 1)
  local bodies, complete = {}, true
  for i, record_key in ipairs(listed) do
    local record = redis.call('HMGET', record_key, '${L2_FIELDS.body}', '${L2_FIELDS.version}')
    if not record[1] then
      complete = false
      break
    end
    if not collection then
      local region, gpu_type, status, version =
        string.match(redis.call('HGET', KEYS[1], record_key) or '', '^(%S+) (%S+) (%S+) (%S+)$')
      if version ~= record[2] or not (matches(f_region, region) and matches(f_type, gpu_type)
          and matches(f_status, status)) then
        complete = false
        break
      end
    end
    bodies[i] = record[1]
  end
  if complete and collection then
    replies[#replies + 1] = '{"items":[' .. table.concat(bodies, ',') .. ']}'
  elseif complete then
    local total = redis.call('ZCARD', KEYS[v])
    replies[#replies + 1] = '{"items":[' .. table.concat(bodies, ',') .. '],"total":' .. total .. '}'
  else
    replies[#replies + 1] = '${VIEW_READ_OUTCOMES.incomplete}'
  end
end
return replies
`;

/**
 * The warm script: one page of GPU records read from the origin, into the records and the views.
 * A record is written only where Redis holds an older version or none (an event may have
 * overtaken the page); where Redis holds a newer one, the GPU is indexed under that one's state.
 * KEYS: none (all keys are in ARGV, as in the apply-event script). ARGV: 1 listingViewPrefix,
 * 2 viewMembers, 3 how many GPUs, then per GPU: its record key, its record's slots
 * (core/redis/record-hash.ts) and its view argument (gpuViewArgument).
 * Reply: {written, indexed from a newer stored record}.
 */
const warmSlot = (offset: number) => `ARGV[i + ${1 + offset}]`;
const WARM_VIEW_ARGUMENT = `ARGV[i + ${1 + RECORD_ARGUMENT_COUNT}]`;
const WARM_TTL_ARGUMENT = `ARGV[i + ${RECORD_ARGUMENT_COUNT}]`;

/**
 * Lua, one warm's step for the record at ARGV[i] (both warm scripts): written where Redis holds an
 * older version or none (counted in `written`), its TTL refreshed where the same, left alone where
 * newer (an event overtook the origin's answer); then what the caller does in each case.
 */
function warmRecordLua(then: {
  readonly written: string;
  readonly same: string;
  readonly newer: string;
}): string {
  return `local key = ARGV[i]
  local stored = tonumber(redis.call('HGET', key, '${L2_FIELDS.version}') or '-1')
  local version = tonumber(ARGV[i + 1])
  if stored < version then
    ${writeRecordLua("key", warmSlot, "    ")}
    written = written + 1
    ${then.written}
  elseif stored == version then
    redis.call('PEXPIRE', key, ${WARM_TTL_ARGUMENT})
    ${then.same}
  else
    ${then.newer}
  end`;
}

const INDEX_FROM_PAGE = indexFromArgumentLua("ARGV[1]", "ARGV[2]", "key", WARM_VIEW_ARGUMENT, "    ");

export const WARM_PAGE_SCRIPT = `
${INDEX_GPU_LUA}
local written, newer = 0, 0
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  ${warmRecordLua({
    written: INDEX_FROM_PAGE,
    same: INDEX_FROM_PAGE,
    newer: `local indexed = redis.call('HGET', ARGV[2], key)
    if not indexed or string.match(indexed, '(%S+)$') ~= tostring(stored) then
      local gpu = cjson.decode(redis.call('HGET', key, '${L2_FIELDS.body}'))
      index_gpu(ARGV[1], ARGV[2], key, gpu.region, gpu.gpuType, gpu.status, gpu.pricePerHour, gpu.performanceScore, redis.call('HGET', key, '${L2_FIELDS.version}'))
    end
    newer = newer + 1`,
  })}
  i = i + ${2 + RECORD_ARGUMENT_COUNT}
end
return {written, newer}
`;

/** Releases the warm lock (core/keys.ts `viewsWarmLock`) only when it is still this warm's. KEYS: 1 lock. ARGV: 1 token. */
export const RELEASE_WARM_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The warm script for collection records (prices, stats, order books read from the origin's
 * lists): each record written where Redis holds an older version or none, its TTL refreshed where
 * the same, and its key put into its collection views either way.
 * ARGV: 1 how many records, then per record: its key, its record's slots
 * (core/redis/record-hash.ts) and its collection views, space-separated.
 * Reply: how many were written.
 */
export const WARM_COLLECTION_SCRIPT = `
local written = 0
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  ${warmRecordLua({ written: "", same: "", newer: "" })}
  ${addToCollectionsLua("key", WARM_VIEW_ARGUMENT, "  ")}
  i = i + ${2 + RECORD_ARGUMENT_COUNT}
end
return written
`;
