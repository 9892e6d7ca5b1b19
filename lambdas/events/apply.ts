/**
 * Applies events to Redis: one Lua script per event, so each event's Redis step is
 * all-or-nothing (DESIGN "Failure behaviour"): dedupe, version check, write-through
 * of the new records, removal of derived records and of the aggregate responses
 * indexed under its tags, one invalidation-log entry and one PUBLISH.
 *
 * Events of one request go in one pipeline: one HTTP round trip to Upstash for the
 * whole batch, each script still atomic on its own.
 */
import type { Redis } from "@upstash/redis";
import type { MarketplaceEvent } from "../../core/events";
import { encodeLogFields, INVALIDATION_LOG_MAX_LENGTH } from "../../core/invalidation-log";
import type { Keyspace } from "../../core/keys";
import { encodeL2Record, L2_FIELDS } from "../../core/read-model";
import { type EventPlan, planEvent } from "./effects";

/** How long an event id is remembered for dedupe. */
export const APPLIED_EVENT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * applied: this call wrote it; stale: Redis holds a newer version (acknowledged, ignored);
 * duplicate: the id was seen before. `purged` says whether an earlier attempt finished its
 * purges, so a retry completes them and does nothing else twice.
 */
export type ApplyStatus = "applied" | "stale" | "duplicate";

export interface ApplyResult {
  readonly event: MarketplaceEvent;
  readonly plan: EventPlan;
  readonly status: ApplyStatus;
  /** False when purges are still owed for this event (first application, or a retry after they failed). */
  readonly purged: boolean;
  /** The invalidation-log entry id, when this call wrote one. */
  readonly logId: string | undefined;
}

// KEYS: 1 applied marker, 2 version key ('' = none), 3 log.
// ARGV: 1 event version, 2 marker ttl ms, 3 channel, 4 log max length, 5 tags, 6 event id, 7 at,
//       8 #writes, 9 #deletes, 10 #tags, 11 message without its id (JSON: the emulator has no cjson),
//       then per write: key, version, body, tags, storedAt, ttlMs; then delete keys; then tag index keys.
// Redis keeps what a script wrote before a command fails, so every key is checked (type, stored
// version) before the first write: a key of the wrong type fails the event with nothing written.
const APPLY_SCRIPT = `
local function refuse(key, wanted)
  local found = redis.call('TYPE', key)
  if type(found) == 'table' then found = found.ok end
  if found ~= 'none' and found ~= wanted then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. wanted)
  end
end
local marker = redis.call('GET', KEYS[1])
if marker then return {'duplicate', marker} end
local version = tonumber(ARGV[1])
if KEYS[2] ~= '' then
  local stored = tonumber(redis.call('HGET', KEYS[2], '${L2_FIELDS.version}') or '-1')
  if stored >= version then
    redis.call('SET', KEYS[1], 'purged', 'PX', ARGV[2])
    return {'stale', 'purged'}
  end
end
local refused = refuse(KEYS[3], 'stream')
if refused then return refused end
local writes = {}
local i = 12
for _ = 1, tonumber(ARGV[8]) do
  refused = refuse(ARGV[i], 'hash')
  if refused then return refused end
  local stored = tonumber(redis.call('HGET', ARGV[i], '${L2_FIELDS.version}') or '-1')
  if stored < tonumber(ARGV[i + 1]) then writes[#writes + 1] = i end
  i = i + 6
end
local deletes = i
i = i + tonumber(ARGV[9])
for _ = 1, tonumber(ARGV[10]) do
  refused = refuse(ARGV[i], 'set')
  if refused then return refused end
  i = i + 1
end
for _, w in ipairs(writes) do
  redis.call('HSET', ARGV[w], '${L2_FIELDS.version}', ARGV[w + 1], '${L2_FIELDS.body}', ARGV[w + 2], '${L2_FIELDS.tags}', ARGV[w + 3], '${L2_FIELDS.storedAt}', ARGV[w + 4])
  redis.call('PEXPIRE', ARGV[w], ARGV[w + 5])
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
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'tags', ARGV[5], 'event', ARGV[6], 'at', ARGV[7])
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '",' .. string.sub(ARGV[11], 2))
redis.call('SET', KEYS[1], 'applied', 'PX', ARGV[2])
return {'applied', 'owed', id}
`;

export interface EventApplier {
  apply(events: readonly MarketplaceEvent[]): Promise<ApplyResult[]>;
  /** Records that an event's purges are done, so a retried delivery does not purge again. */
  markPurged(events: readonly MarketplaceEvent[]): Promise<void>;
}

export function createEventApplier(redis: Redis, keys: Keyspace, clock: { now(): number }): EventApplier {
  const script = redis.createScript<[string, string, string?]>(APPLY_SCRIPT);
  const markerTtlMs = String(APPLIED_EVENT_TTL_SECONDS * 1000);

  const argumentsFor = (event: MarketplaceEvent, plan: EventPlan, now: number) => {
    const fields = encodeLogFields({ tags: plan.tags, eventId: event.id, at: now });
    const args = [
      String(event.version),
      markerTtlMs,
      keys.eventsChannel,
      String(INVALIDATION_LOG_MAX_LENGTH),
      fields.tags ?? "",
      event.id,
      String(now),
      String(plan.writes.length),
      String(plan.deletes.length),
      String(plan.tags.length),
      JSON.stringify({ event: event.id, tags: fields.tags ?? "" }),
    ];
    for (const write of plan.writes) {
      const encoded = encodeL2Record(write.record);
      args.push(
        write.key,
        encoded[L2_FIELDS.version] ?? "0",
        encoded[L2_FIELDS.body] ?? "",
        encoded[L2_FIELDS.tags] ?? "",
        encoded[L2_FIELDS.storedAt] ?? "0",
        String(write.ttlSeconds * 1000),
      );
    }
    args.push(...plan.deletes, ...plan.tags.map((tag) => keys.tagIndex(tag)));
    return args;
  };

  return {
    async apply(events) {
      const now = clock.now();
      const plans = events.map((event) => planEvent(event, keys, now));
      // Script.exec awaits its SHA first; starting every call before awaiting any lets the
      // client's auto-pipelining put the whole batch in one request.
      const replies = await Promise.all(
        events.map((event, index) =>
          script.exec(
            [keys.appliedEvent(event.id), plans[index]?.versionKey ?? "", keys.invalidationLog],
            argumentsFor(event, plans[index] as EventPlan, now),
          ),
        ),
      );
      return replies.map(([status, marker, logId], index) => ({
        event: events[index] as MarketplaceEvent,
        plan: plans[index] as EventPlan,
        status: status as ApplyStatus,
        purged: marker === "purged",
        logId: logId ?? undefined,
      }));
    },

    async markPurged(events) {
      if (events.length === 0) return;
      const pipeline = redis.pipeline();
      for (const event of events) {
        pipeline.set(keys.appliedEvent(event.id), "purged", {
          px: APPLIED_EVENT_TTL_SECONDS * 1000,
          xx: true,
        });
      }
      await pipeline.exec();
    },
  };
}
