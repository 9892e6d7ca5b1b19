/**
 * Applies events to Redis: one Lua script per event, so each event's Redis step is
 * all-or-nothing (docs/architecture.md "Failure behaviour"): dedupe, version check, write-through
 * of the new records, removal of derived records and of the aggregate responses
 * indexed under its tags, one invalidation-log entry, the versions of its tags (the entry's
 * id, core/tag-versions.ts) and one PUBLISH.
 *
 * Events of one request go in one pipeline: one HTTP round trip to Upstash for the
 * whole batch, each script still atomic on its own.
 */
import type { Redis } from "@upstash/redis";
import type { DataClassPolicies } from "../../core/data-classes";
import { strongEtag } from "../../core/etag";
import type { MarketplaceEvent } from "../../core/events";
import {
  encodeLogFields,
  INVALIDATION_LOG_MAX_LENGTH,
  LOG_PUSH_MAX_BYTES,
} from "../../core/invalidation-log";
import type { Keyspace } from "../../core/keys";
import { encodeL2Record } from "../../core/read-model";
import { APPLY_EVENT_SCRIPT } from "../../core/redis/apply-event-script";
import { type ApplyStatus, EVENT_MARKER_STATES, LOG_FIELDS } from "../../core/redis/fields";
import { recordArguments } from "../../core/redis/record-hash";
import { TAG_VERSION_TTL_SECONDS } from "../../core/tag-versions";
import type { Clock } from "../../core/time/clock";
import { type EventPlan, planEvent } from "./effects";

const utf8 = new TextEncoder();

/** How long an event id is remembered for dedupe. */
export const APPLIED_EVENT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * applied: this call wrote it; stale: Redis holds a newer version (acknowledged, ignored);
 * duplicate: the id was seen before (core/redis/fields.ts APPLY_STATUSES). `purged` says
 * whether an earlier attempt finished its purges, so a retry completes them and does
 * nothing else twice.
 */
export type { ApplyStatus };

export interface ApplyResult {
  readonly event: MarketplaceEvent;
  readonly plan: EventPlan;
  readonly status: ApplyStatus;
  /** False when purges are still owed for this event (first application, or a retry after they failed). */
  readonly purged: boolean;
  /** The invalidation-log entry id, when this call wrote one. */
  readonly logId: string | undefined;
}

export interface EventApplier {
  apply(events: readonly MarketplaceEvent[]): Promise<ApplyResult[]>;
  /** Records that an event's purges are done, so a retried delivery does not purge again. */
  markPurged(events: readonly MarketplaceEvent[]): Promise<void>;
}

/** `policies` give each written record its Redis TTL (lambdas/events/effects.ts). */
export function createEventApplier(
  redis: Redis,
  keys: Keyspace,
  clock: Clock,
  policies: DataClassPolicies,
): EventApplier {
  const script = redis.createScript<[string, string, string?]>(APPLY_EVENT_SCRIPT);
  const markerTtlMs = String(APPLIED_EVENT_TTL_SECONDS * 1000);
  const tagVersionTtlMs = String(TAG_VERSION_TTL_SECONDS * 1000);

  const argumentsFor = (event: MarketplaceEvent, plan: EventPlan, now: number, etags: readonly string[]) => {
    const fields = encodeLogFields({ tags: plan.tags, eventId: event.id, at: now });
    const logTags = fields[LOG_FIELDS.tags] ?? "";
    const args = [
      String(event.version),
      markerTtlMs,
      keys.eventsChannel,
      String(INVALIDATION_LOG_MAX_LENGTH),
      logTags,
      fields[LOG_FIELDS.eventId] ?? "",
      fields[LOG_FIELDS.at] ?? "",
      String(plan.writes.length),
      String(plan.deletes.length),
      String(plan.tags.length),
      JSON.stringify({ event: event.id, tags: logTags }),
      tagVersionTtlMs,
      keys.listingViewPrefix,
      keys.viewMembers,
    ];
    // Records ride in the log entry up to its cap, first ones first: the rest are dropped and
    // re-read by the isolates that hold them, as before (every isolate reads every entry).
    let pushedBytes = 0;
    plan.writes.forEach((write, index) => {
      const etag = etags[index] ?? "";
      const bytes = utf8.encode(write.record.body).byteLength + etag.length + write.tag.length;
      const pushed = pushedBytes + bytes <= LOG_PUSH_MAX_BYTES;
      if (pushed) pushedBytes += bytes;
      args.push(
        write.key,
        ...recordArguments(encodeL2Record({ ...write.record, etag }), String(write.ttlSeconds * 1000)),
        pushed ? write.tag : "",
        write.view ?? "",
        (write.collections ?? []).join(" "),
      );
    });
    args.push(
      ...plan.deletes,
      ...plan.tags.map((tag) => keys.tagIndex(tag)),
      ...plan.tags.map((tag) => keys.tagVersion(tag)),
    );
    return args;
  };

  return {
    async apply(events) {
      const now = clock.now();
      const plans = events.map((event) => planEvent(event, keys, now, policies));
      // Each body's validator, computed once here, so no reader hashes it (core/etag.ts).
      const etags = await Promise.all(
        plans.map((plan) => Promise.all(plan.writes.map((write) => strongEtag(write.record.body)))),
      );
      // Script.exec awaits its SHA first; starting every call before awaiting any lets the
      // client's auto-pipelining put the whole batch in one request.
      const replies = await Promise.all(
        events.map((event, index) =>
          script.exec(
            [keys.appliedEvent(event.id), plans[index]?.versionKey ?? "", keys.invalidationLog],
            argumentsFor(event, plans[index] as EventPlan, now, etags[index] ?? []),
          ),
        ),
      );
      return replies.map(([status, marker, logId], index) => ({
        event: events[index] as MarketplaceEvent,
        plan: plans[index] as EventPlan,
        status: status as ApplyStatus,
        purged: marker === EVENT_MARKER_STATES.purged,
        logId: logId ?? undefined,
      }));
    },

    async markPurged(events) {
      if (events.length === 0) return;
      const pipeline = redis.pipeline();
      for (const event of events) {
        pipeline.set(keys.appliedEvent(event.id), EVENT_MARKER_STATES.purged, {
          px: APPLIED_EVENT_TTL_SECONDS * 1000,
          xx: true,
        });
      }
      await pipeline.exec();
    },
  };
}
