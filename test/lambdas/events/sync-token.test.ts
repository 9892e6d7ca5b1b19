/**
 * The event app's `syncToken` (lambdas/events/delivery-report.ts deliverySyncToken,
 * docs/read-your-own-writes.md) against each Redis backend through its bridge: the greatest
 * log id of the events a delivery applied; the log's end when one was not applied by it (a
 * re-delivery's duplicates, a stale event), so a retrying sender still gets a token at or past
 * its write; none, with the events applied all the same, when the end cannot be read.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { compareStreamIds } from "../../../core/invalidation-log";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import { signedDelivery } from "../../../dev/local/marketplace-events";
import { createEventsApp, type PurgeDispatcher } from "../../../lambdas/events/app";
import { createEventApplier } from "../../../lambdas/events/apply";
import { invalidationLogEnd, type LogEndReader } from "../../../lambdas/events/delivery-report";
import { SILENT_LOGGER } from "../../../lambdas/shared/logger";
import {
  BACKENDS,
  clone,
  EventFactory,
  nextEventId,
  type RawEvent,
  useBackend,
} from "../../support/event-fixtures";
import { recordingLogger } from "../shared/recording";

const settleAll: PurgeDispatcher = {
  dispatch: async (results) => ({ settled: results.map((result) => result.event) }),
};

interface Answer {
  readonly status: number;
  readonly body: { results?: Array<{ id: string; status: string }>; syncToken?: string };
}

/** Every id in the log, oldest first. */
async function logIds(redis: Redis, keys: Keyspace): Promise<string[]> {
  const reply = (await redis.xrange(keys.invalidationLog, "-", "+")) as unknown;
  return Array.isArray(reply)
    ? reply.map((entry) => String((entry as unknown[])[0]))
    : Object.keys(reply as object);
}

describe.for(BACKENDS)("the 202's syncToken · $name", (backend) => {
  const sides = useBackend(backend);

  function setup(
    options: { logEnd?: LogEndReader | "none"; logger?: ReturnType<typeof recordingLogger> } = {},
  ) {
    const keys = createKeyspace(sides.prefix("sync-token"));
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const app = createEventsApp({
      secrets: [secret],
      applier: createEventApplier(sides.redis, keys, { now: () => Date.now() }, DEFAULT_DATA_CLASS_POLICIES),
      purges: settleAll,
      logger: options.logger?.logger ?? SILENT_LOGGER,
      ...(options.logEnd === "none"
        ? {}
        : { logEnd: options.logEnd ?? invalidationLogEnd(sides.redis, keys) }),
    });
    const deliver = async (events: readonly RawEvent[]): Promise<Answer> => {
      const { headers, body } = signedDelivery(secret, events);
      const response = await app.request("http://events.test/v1/events", { method: "POST", headers, body });
      return { status: response.status, body: (await response.json()) as Answer["body"] };
    };
    return { keys, deliver };
  }

  it("is the log id of the one event applied", async () => {
    const { keys, deliver } = setup();
    const factory = new EventFactory();
    const answer = await deliver([factory.bookingCreated().raw]);
    expect(answer.status).toBe(202);
    const ids = await logIds(sides.redis, keys);
    expect(ids).toHaveLength(1);
    expect(answer.body.syncToken).toBe(ids[0]);
  });

  it("is the greatest log id of a batch's events", async () => {
    const { keys, deliver } = setup();
    const factory = new EventFactory();
    const events = [
      factory.bookingCreated().raw,
      factory.gpuStatusChanged().raw,
      factory.bookingCreated().raw,
    ];
    const answer = await deliver(events);
    expect(answer.body.results?.map((result) => result.status)).toEqual(["applied", "applied", "applied"]);
    const ids = await logIds(sides.redis, keys);
    expect(ids).toHaveLength(3);
    const greatest = [...ids].sort(compareStreamIds).at(-1);
    expect(answer.body.syncToken).toBe(greatest);
  });

  it("a re-delivery of duplicates gets the log's end: at or past the write, and past what came since", async () => {
    const { keys, deliver } = setup();
    const factory = new EventFactory();
    const booking = factory.bookingCreated().raw;
    const first = await deliver([booking]);
    // Another change lands before the sender retries.
    const later = await deliver([factory.gpuStatusChanged().raw]);
    const retried = await deliver([booking]);
    expect(retried.body.results?.[0]?.status).toBe("duplicate");
    const ids = await logIds(sides.redis, keys);
    expect(ids).toHaveLength(2);
    expect(retried.body.syncToken).toBe(later.body.syncToken);
    expect(compareStreamIds(retried.body.syncToken ?? "0-0", first.body.syncToken ?? "")).toBeGreaterThan(0);
  });

  it("a stale event, or a mix with one, gets the log's end", async () => {
    const { keys, deliver } = setup();
    const factory = new EventFactory();
    const booking = factory.bookingCreated().raw;
    await deliver([booking]);
    const older = clone(booking);
    older.id = nextEventId("stale");
    older.version = booking.version - 1;
    (older.data.gpu as { version: number }).version = booking.version - 1;
    const stale = await deliver([older]);
    expect(stale.body.results?.[0]?.status).toBe("stale");
    expect(stale.body.syncToken).toBe((await logIds(sides.redis, keys)).at(-1));

    const fresh = factory.gpuStatusChanged().raw;
    const mixed = await deliver([fresh, booking]);
    expect(mixed.body.results?.map((result) => result.status)).toEqual(["applied", "duplicate"]);
    expect(mixed.body.syncToken).toBe((await logIds(sides.redis, keys)).at(-1));
  });

  it("an empty log's end is 0-0", async () => {
    const keys = createKeyspace(sides.prefix("sync-token-empty"));
    expect(await invalidationLogEnd(sides.redis, keys)()).toBe("0-0");
  });

  it("without a way to read the log's end, duplicates get no token; applied events still do", async () => {
    const { deliver } = setup({ logEnd: "none" });
    const booking = new EventFactory().bookingCreated().raw;
    const first = await deliver([booking]);
    expect(first.body.syncToken).toMatch(/^\d+-\d+$/);
    const retried = await deliver([booking]);
    expect(retried.status).toBe(202);
    expect(retried.body).not.toHaveProperty("syncToken");
  });

  it("a log end that cannot be read leaves the token out, and the delivery is still a 202", async () => {
    const logger = recordingLogger();
    const { deliver } = setup({
      logEnd: () => Promise.reject(new Error(`Redis gone ${randomUUID()}`)),
      logger,
    });
    const booking = new EventFactory().bookingCreated().raw;
    await deliver([booking]);
    const retried = await deliver([booking]);
    expect(retried.status).toBe(202);
    expect(retried.body.results?.[0]?.status).toBe("duplicate");
    expect(retried.body).not.toHaveProperty("syncToken");
    expect(logger.lines.filter((line) => line.level === "warn").map((line) => line.message)).toEqual([
      "sync token not read: the invalidation log's end could not be had",
    ]);
  });
});
