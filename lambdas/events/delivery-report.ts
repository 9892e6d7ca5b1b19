/**
 * What the webhook app says about a delivery it applied: for each event one line (id, type,
 * status, purge done/pending, propagation) and its metrics, for each operator
 * `cache.invalidate` an audit line instead (who signed it, what it named, what happened), and
 * one line for the delivery (counts and latencies). Ids, types, counts and an operator's tags
 * only: never an event's data.
 */
import { createHash } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type { MarketplaceEvent } from "../../core/events";
import { compareStreamIds } from "../../core/invalidation-log";
import type { Keyspace } from "../../core/keys";
import type { Logger } from "../shared/logger";
import type { Metrics } from "../shared/metrics";
import type { ApplyResult } from "./apply";

/** The `audit` field of an operator invalidation's line (`filter audit = "cache.invalidate"`). */
export const INVALIDATION_AUDIT = "cache.invalidate";

/** Tags named in an audit line; `tagCount` always gives them all (an invalidation may name 1,000). */
export const MAX_AUDITED_TAGS = 50;

const STATUS_METRIC = {
  applied: "EventsApplied",
  stale: "EventsStale",
  duplicate: "EventsDuplicate",
} as const;

/**
 * Which configured signing secret verified a delivery, as an operator can name it: the first 12
 * hex digits of the secret's SHA-256 (`printf %s "$secret" | sha256sum | cut -c1-12`). The
 * secrets are at least 96 random bits; 48 bits of a hash of one tell nothing about it, and
 * during a rotation they tell the old key from the new.
 */
export function signingKeyId(secret: string): string {
  return `sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 12)}`;
}

/** An applied event's `occurredAt` to `appliedAt`; the sender's clock may run ahead, never below 0. */
export function propagationMs(event: MarketplaceEvent, appliedAt: number): number | undefined {
  const occurred = Date.parse(event.occurredAt);
  return Number.isNaN(occurred) ? undefined : Math.max(0, appliedAt - occurred);
}

export interface DeliveryReport {
  /** The delivery's logger (its `webhookId` and `signingKeyId` on every line). */
  readonly log: Pick<Logger, "info">;
  readonly metrics: Metrics;
  readonly results: readonly ApplyResult[];
  /** The events whose purges are done (or safely queued). */
  readonly settledIds: ReadonlySet<string>;
  /** Wall-clock time the Redis step finished. */
  readonly appliedAt: number;
  readonly redisMs: number;
  readonly latencyMs: number;
}

export function reportDelivery(report: DeliveryReport): void {
  const { log, metrics, results, settledIds, appliedAt } = report;
  const counts = { applied: 0, stale: 0, duplicate: 0, purgePending: 0 };
  for (const { event, status } of results) {
    const purge = settledIds.has(event.id) ? "done" : "pending";
    counts[status]++;
    if (purge === "pending") counts.purgePending++;
    metrics.add(STATUS_METRIC[status], 1, { type: event.type });
    const propagation = status === "applied" ? propagationMs(event, appliedAt) : undefined;
    if (propagation !== undefined) metrics.add("PropagationDelay", propagation);
    const fields = {
      eventId: event.id,
      type: event.type,
      status,
      purge,
      ...(propagation !== undefined ? { propagationMs: propagation } : {}),
    };
    if (event.type === "cache.invalidate") {
      const { tags, paths, keys } = event.data;
      log.info("operator cache invalidation", {
        audit: INVALIDATION_AUDIT,
        ...fields,
        tagCount: tags.length,
        pathCount: paths.length,
        keyCount: keys.length,
        tags: tags.slice(0, MAX_AUDITED_TAGS),
      });
    } else {
      log.info("event", fields);
    }
  }
  log.info("webhook delivery", {
    status: 202,
    eventCount: results.length,
    ...counts,
    redisMs: report.redisMs,
    latencyMs: report.latencyMs,
  });
}

/** Where the invalidation log ends now: the id of its newest entry, `0-0` for an empty log. */
export type LogEndReader = () => Promise<string>;

/** One `XREVRANGE <log> + - COUNT 1`: the newest entry's id. */
export function invalidationLogEnd(redis: Redis, keys: Pick<Keyspace, "invalidationLog">): LogEndReader {
  return async () => {
    const reply: unknown = await redis.xrevrange(keys.invalidationLog, "+", "-", 1);
    // Raw (`automaticDeserialization: false`): [[id, [field, value, …]]]; deserialized: {id: {…}}.
    const id = Array.isArray(reply)
      ? (reply[0] as unknown[] | undefined)?.[0]
      : Object.keys((reply ?? {}) as Record<string, unknown>)[0];
    return id === undefined ? "0-0" : String(id);
  };
}

/**
 * The delivery's `syncToken` (docs/read-your-own-writes.md): a log position at or past every
 * entry its events' changes rest on, for the sender's clients to read their own writes at the
 * edge. When every event was applied by this call, the greatest of their entries' ids. When one
 * was not (a duplicate, applied by an earlier attempt that may still be running; a stale one,
 * overtaken by a newer event), its entry is not known here, so the log's current end: at or past
 * it. Undefined when that end cannot be read: the events are applied all the same.
 */
export async function deliverySyncToken(
  results: readonly ApplyResult[],
  logEnd: LogEndReader | undefined,
): Promise<string | undefined> {
  let greatest: string | undefined;
  for (const { status, logId } of results) {
    if (status !== "applied" || logId === undefined) return logEnd?.();
    if (greatest === undefined || compareStreamIds(logId, greatest) > 0) greatest = logId;
  }
  return greatest ?? logEnd?.();
}
