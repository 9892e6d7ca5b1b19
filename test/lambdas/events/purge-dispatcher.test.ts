/**
 * The event Lambda's purge hand-off with a retry queue, through the real purgers and
 * the real SQS SDK against the fakes: a delivery's CloudFront purge is deferred to the
 * queue as one message (CloudFront is not called in the request) and its events settled
 * once it is queued; a purge that still fails is queued in the message format and its
 * event settled; an event whose retry could not be queued stays unsettled, so the
 * sender's re-delivery completes it. Workers Cache (through a local stand-in for the
 * Worker's signed endpoint, tokens from the shared bucket in Redis) replaces the zone purge,
 * which runs only with its settings: deferred like CloudFront with a queue, planned in the
 * request without one, and filtered by the classes' front TTLs.
 */
import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type DataClassName,
  type DataClassPolicies,
  DEFAULT_DATA_CLASS_POLICIES,
} from "../../../core/data-classes";
import type { MarketplaceEvent } from "../../../core/events";
import { createKeyspace } from "../../../core/keys";
import { tags, tagsForGpuChange } from "../../../core/tags";
import {
  type CloudFrontFake,
  type CloudflareFake,
  startCloudFrontFake,
  startCloudflareFake,
} from "../../../dev/fakes";
import { type SqsFake, startSqsFake } from "../../../dev/fakes/sqs";
import {
  createPurgeDispatcher,
  DEFERRED_CLOUDFRONT_DELAY_SECONDS,
  DEFERRED_CLOUDFRONT_REASON,
  DEFERRED_PURGE_DELAY_SECONDS,
  DEFERRED_PURGE_REASON,
} from "../../../lambdas/events/purge-dispatcher";
import { combinedBatchKey } from "../../../lambdas/purge/cloudfront/caller-reference";
import { createPurgers, parsePurgeSettings } from "../../../lambdas/purge/config";
import { createSharedTokenBucket } from "../../../lambdas/purge/workers-cache";
import { decodeRetryMessage, type RetryMessage } from "../../../lambdas/retry/message";
import { createRetryQueue, type RetryQueue } from "../../../lambdas/retry/retry-queue";
import { ManualClock } from "../../support/manual-clock";
import { uniquePrefix, upstashClient } from "../../support/redis";
import { type PurgeEndpoint, startPurgeEndpoint } from "../../support/worker-purge-endpoint";
import {
  bookings,
  RETRY_QUEUE,
  RETRY_QUEUES,
  recordingLogger,
  recordingMetrics,
  silent,
  sqsClient,
} from "../retry/helpers";

let cloudflare: CloudflareFake;
let cloudfront: CloudFrontFake;
let sqsFake: SqsFake;
let sqs: SQSClient;
beforeAll(async () => {
  cloudflare = await startCloudflareFake({ apiToken: "token", retryAfter: "0" });
  cloudfront = await startCloudFrontFake({});
  sqsFake = await startSqsFake({ queues: RETRY_QUEUES });
  sqs = sqsClient(sqsFake);
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([cloudflare.close(), cloudfront.close(), sqsFake.close()]);
});

const distributionId = `E${randomUUID().slice(0, 8).toUpperCase()}`;

/** `withCloudFront: false` keeps a Cloudflare test's queue free of deferred CloudFront messages. */
function purgers({ withCloudFront = true } = {}) {
  return createPurgers(
    parsePurgeSettings({
      CLOUDFLARE_API_TOKEN: "token",
      CLOUDFLARE_ZONE_ID: "zone",
      CLOUDFLARE_BASE_URL: `${cloudflare.url}/client/v4`,
      // One SDK retry: a failing purge is two 429s.
      CLOUDFLARE_MAX_RETRIES: "1",
      ...(withCloudFront
        ? { CLOUDFRONT_DISTRIBUTION_ID: distributionId, CLOUDFRONT_ENDPOINT: cloudfront.url }
        : {}),
    }),
    { logger: silent, cloudFront: { sleep: async () => {} } },
  );
}
const cloudflareOnly = () => purgers({ withCloudFront: false });
const createInvalidations = () => cloudfront.requests.filter((request) => request.method === "POST").length;

const queue = (queueUrl = sqsFake.queueUrl(RETRY_QUEUE)): RetryQueue =>
  createRetryQueue({ client: sqs, queueUrl, delaySeconds: 0 });

/** What a dispatch added to the retry queue, decoded. */
async function queuedBy(dispatch: () => Promise<unknown>): Promise<RetryMessage[]> {
  const before = new Set(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId));
  await dispatch();
  return sqsFake
    .messages(RETRY_QUEUE)
    .filter((message) => !before.has(message.messageId))
    .map((message) => {
      const decoded = decodeRetryMessage(message.body);
      if (!decoded.ok) throw new Error(`not a retry message: ${decoded.poison}`);
      return decoded.message;
    });
}

describe("purge dispatcher with a retry queue", () => {
  it("queues a Cloudflare purge that failed after the SDK's retries, and settles its event", async () => {
    const [result] = bookings(1, "dispatch-retry");
    if (!result) throw new Error("no booking");
    const requestsBefore = cloudflare.requests.length;
    const purgesBefore = cloudflare.purges.length;
    cloudflare.failNext(2, "rate-limit", "0");
    let settled: readonly { id: string }[] = [];
    const started = Date.now();
    const messages = await queuedBy(async () => {
      settled = (await createPurgeDispatcher(cloudflareOnly(), silent, queue()).dispatch([result])).settled;
    });
    expect(settled.map((event) => event.id)).toEqual([result.event.id]);
    expect(cloudflare.requests.slice(requestsBefore).map((request) => request.status)).toEqual([429, 429]);
    expect(cloudflare.purges.length).toBe(purgesBefore);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({
      v: 1,
      retry: { provider: "cloudflare", zoneId: "zone", batchKey: result.event.id },
      eventIds: [result.event.id],
      lastError: expect.stringMatching(/429/),
    });
    expect(message?.retry.provider === "cloudflare" && [...message.retry.tags].sort()).toEqual(
      [...new Set(result.plan.tags)].sort(),
    );
    expect(Date.parse(message?.firstFailedAt ?? "")).toBeGreaterThanOrEqual(started - 1_000);
  });

  it("dates every message it queues (failed and deferred) by the injected clock", async () => {
    const results = bookings(1, "dispatch-clock");
    cloudflare.failNext(2, "rate-limit", "0");
    const clock = new ManualClock(Date.parse("2026-11-01T12:34:56Z"));
    const messages = await queuedBy(() =>
      createPurgeDispatcher(purgers(), silent, queue(), clock).dispatch(results),
    );
    expect(messages.map((message) => [message.retry.provider, message.firstFailedAt]).sort()).toEqual([
      ["cloudflare", "2026-11-01T12:34:56.000Z"],
      ["cloudfront", "2026-11-01T12:34:56.000Z"],
    ]);
  });

  it("defers a delivery's CloudFront purge as one short-delayed message and settles its events; no CloudFront call", async () => {
    const results = bookings(3, "dispatch-deferred");
    const ids = results.map((result) => result.event.id);
    const callsBefore = createInvalidations();
    const purgesBefore = cloudflare.purges.length;
    let settled: readonly { id: string }[] = [];
    const before = new Set(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId));
    const messages = await queuedBy(async () => {
      settled = (await createPurgeDispatcher(purgers(), silent, queue()).dispatch(results)).settled;
    });
    expect(settled.map((event) => event.id)).toEqual(ids);
    expect(createInvalidations()).toBe(callsBefore);
    // Cloudflare stays in the request.
    expect(cloudflare.purges.length).toBeGreaterThan(purgesBefore);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({
      v: 1,
      retry: { provider: "cloudfront", distributionId, batchKey: combinedBatchKey(ids) },
      eventIds: ids,
      lastError: DEFERRED_CLOUDFRONT_REASON,
    });
    const paths = message?.retry.provider === "cloudfront" ? message.retry.paths : [];
    expect(paths).toContain("/v1/gpus*");
    // Normalised: sorted, no duplicates.
    expect(paths).toEqual([...new Set(paths)].sort());
    const [stored] = sqsFake.messages(RETRY_QUEUE).filter((queued) => !before.has(queued.messageId));
    expect((stored?.visibleAt ?? 0) - (stored?.sentAt ?? 0)).toBe(DEFERRED_CLOUDFRONT_DELAY_SECONDS * 1000);
  });

  it("queues a failed Cloudflare purge besides the deferred CloudFront message; both settle the event", async () => {
    const results = bookings(1, "dispatch-both");
    cloudflare.failNext(2, "rate-limit", "0");
    let settled: readonly { id: string }[] = [];
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    const messages = await queuedBy(async () => {
      settled = (
        await createPurgeDispatcher(purgers(), logger, queue(), undefined, recording.metrics).dispatch(
          results,
        )
      ).settled;
    });
    // Each queued message: a line with its SQS message id (the retry Lambda's lines name it too), and a count.
    const queuedLines = lines.filter((line) => line.message === "purge queued for retry");
    expect(queuedLines.map((line) => [line.fields.provider, line.fields.reason]).sort()).toEqual([
      ["cloudflare", "failed"],
      ["cloudfront", "deferred"],
    ]);
    const stored = new Set(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId));
    for (const line of queuedLines) {
      expect(stored.has(String(line.fields.messageId))).toBe(true);
      expect(line.fields.eventIds).toEqual([results[0]?.event.id]);
    }
    expect(recording.total("PurgesQueued", { provider: "cloudflare" })).toBe(1);
    expect(recording.total("PurgesQueued", { provider: "cloudfront" })).toBe(1);
    expect(recording.total("PurgesNotQueued")).toBe(0);
    expect(settled.map((event) => event.id)).toEqual([results[0]?.event.id]);
    expect(messages.map((message) => [message.retry.provider, message.lastError]).sort()).toEqual([
      ["cloudflare", expect.stringMatching(/429/)],
      ["cloudfront", DEFERRED_CLOUDFRONT_REASON],
    ]);
  });

  it("leaves the events unsettled when the deferred CloudFront message cannot be queued", async () => {
    const results = bookings(2, "dispatch-deferred-noqueue");
    const { lines, logger } = recordingLogger();
    const callsBefore = createInvalidations();
    const missing = queue(`${sqsFake.url}/000000000000/no-such-queue`);
    const recording = recordingMetrics();
    expect(
      (
        await createPurgeDispatcher(purgers(), logger, missing, undefined, recording.metrics).dispatch(
          results,
        )
      ).settled,
    ).toEqual([]);
    expect(recording.total("PurgesNotQueued", { provider: "cloudfront" })).toBe(1);
    expect(recording.total("PurgesQueued")).toBe(0);
    expect(createInvalidations()).toBe(callsBefore);
    expect(
      lines.find((line) => line.message === "purge could not be queued, left owed")?.fields,
    ).toMatchObject({
      provider: "cloudfront",
      reason: "deferred",
      eventCount: 2,
      eventIds: results.map((result) => result.event.id),
      error: expect.stringMatching(/QueueDoesNotExist/),
    });
  });

  it("leaves an event unsettled when its retry cannot be queued; the re-delivery completes it", async () => {
    const results = bookings(1, "dispatch-noqueue");
    const { lines, logger } = recordingLogger();
    const missing = queue(`${sqsFake.url}/000000000000/no-such-queue`);
    cloudflare.failNext(2, "rate-limit", "0");
    expect(
      (await createPurgeDispatcher(cloudflareOnly(), logger, missing).dispatch(results)).settled,
    ).toEqual([]);
    expect(
      lines.find((line) => line.message === "purge could not be queued, left owed")?.fields,
    ).toMatchObject({
      provider: "cloudflare",
      reason: "failed",
      error: expect.stringMatching(/QueueDoesNotExist/),
    });
    const redelivered = await createPurgeDispatcher(cloudflareOnly(), silent, missing).dispatch(results);
    expect(redelivered.settled.map((event) => event.id)).toEqual([results[0]?.event.id]);
  });

  it("settles only the events whose own retries were queued when SQS fails one entry", async () => {
    const results = bookings(2, "dispatch-entry");
    // Both events' Cloudflare purges fail (two attempts each); the first message SQS refuses.
    cloudflare.failNext(4, "rate-limit", "0");
    sqsFake.failNextEntries(1);
    let settled: readonly { id: string }[] = [];
    const messages = await queuedBy(async () => {
      settled = (await createPurgeDispatcher(cloudflareOnly(), silent, queue()).dispatch(results)).settled;
    });
    expect(settled.map((event) => event.id)).toEqual([results[1]?.event.id]);
    expect(messages.map((message) => message.eventIds)).toEqual([[results[1]?.event.id]]);
  });

  it("without a retry queue, a failed purge leaves its event unsettled and CloudFront is purged in the request (as before)", async () => {
    const results = bookings(1, "dispatch-none");
    const callsBefore = createInvalidations();
    cloudflare.failNext(2, "rate-limit", "0");
    const messages = await queuedBy(async () => {
      expect((await createPurgeDispatcher(purgers(), silent).dispatch(results)).settled).toEqual([]);
    });
    expect(messages).toEqual([]);
    expect(createInvalidations()).toBe(callsBefore + 1);
    // Its marker stays owed: the re-delivery purges again and settles it.
    expect(
      (await createPurgeDispatcher(purgers(), silent).dispatch(results)).settled.map((e) => e.id),
    ).toEqual([results[0]?.event.id]);
  });

  it("without a retry queue, every event's tags reach Cloudflare and the delivery's paths one coalesced invalidation", async () => {
    const results = bookings(20, "dispatch-coalesced-none");
    const before = { cloudflare: cloudflare.purges.length, cloudfront: cloudfront.purges.length };
    const { settled } = await createPurgeDispatcher(purgers(), silent).dispatch(results);
    expect(settled.map((event) => event.id)).toEqual(results.map((result) => result.event.id));
    const purgedTags = cloudflare.purges.slice(before.cloudflare).flatMap((purge) => purge.items);
    for (const result of results) {
      const gpu = (result.event as Extract<MarketplaceEvent, { type: "booking.created" }>).data.gpu;
      for (const tag of tagsForGpuChange(gpu)) expect(purgedTags).toContain(tag);
    }
    const invalidations = cloudfront.purges.slice(before.cloudfront);
    expect(invalidations).toHaveLength(1);
    expect(invalidations[0]?.paths).toContain("/v1/gpus*");
  });
});

describe("purge dispatcher: Workers Cache instead of the zone", () => {
  const SECRET = "whsec_ZGlzcGF0Y2hlci1wdXJnZS1zZWNyZXQ=";
  let endpoint: PurgeEndpoint;
  // Real time to start with: the stand-in checks signatures against the same clock.
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    endpoint = await startPurgeEndpoint({ secret: SECRET, now: clock.now });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  /** Front TTLs long enough to purge every class, except those named. */
  const frontTtls = (short: readonly DataClassName[] = []): DataClassPolicies =>
    Object.fromEntries(
      Object.entries(DEFAULT_DATA_CLASS_POLICIES).map(([name, policy]) => [
        name,
        { ...policy, cdnMaxAgeSeconds: short.includes(name as DataClassName) ? 1 : 60 },
      ]),
    ) as unknown as DataClassPolicies;

  /**
   * Workers Cache configured, no zone settings, CloudFront only when deferred (this file's
   * distribution has had its fill of invalidations in progress); one bucket per call unless given.
   */
  function workersCachePurgers(
    policies = frontTtls(),
    prefix = uniquePrefix("dispatch-wc"),
    { withCloudFront = false } = {},
  ) {
    return createPurgers(
      parsePurgeSettings({
        ...(withCloudFront
          ? { CLOUDFRONT_DISTRIBUTION_ID: distributionId, CLOUDFRONT_ENDPOINT: cloudfront.url }
          : {}),
        WORKERS_CACHE_PURGE_URL: endpoint.url,
        WORKERS_CACHE_PURGE_SECRET: SECRET,
      }),
      {
        logger: silent,
        cloudFront: { sleep: async () => {} },
        redis: { client: upstashClient(), keys: createKeyspace(prefix) },
        policies,
        workersCache: { clock },
      },
    );
  }

  it("never calls the zone purge without CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID", async () => {
    const results = bookings(2, "dispatch-no-zone");
    const purgers = workersCachePurgers();
    expect(purgers.configured.cloudflare).toBe(false);
    const zone = vi.spyOn(purgers.cloudflare, "purge");
    const requestsBefore = cloudflare.requests.length;
    const { settled } = await createPurgeDispatcher(purgers, silent).dispatch(results);
    expect(settled).toHaveLength(2);
    expect(zone).not.toHaveBeenCalled();
    expect(cloudflare.requests.length).toBe(requestsBefore);
    // With its settings it still runs, for a deployment that puts content in the zone.
    const requestsWithZone = cloudflare.requests.length;
    await createPurgeDispatcher(cloudflareOnly(), silent).dispatch(results);
    expect(cloudflare.requests.length).toBeGreaterThan(requestsWithZone);
  });

  it("with a queue, defers the delivery's Workers Cache tags as one short-delayed message, without the tags its front TTL bounds", async () => {
    const results = bookings(3, "dispatch-wc-deferred");
    const ids = results.map((result) => result.event.id);
    const callsBefore = endpoint.requests.length;
    let settled: readonly { id: string }[] = [];
    const before = new Set(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId));
    const messages = await queuedBy(async () => {
      const purgers = workersCachePurgers(frontTtls(["gpu", "availability", "market-stats"]), undefined, {
        withCloudFront: true,
      });
      settled = (await createPurgeDispatcher(purgers, silent, queue()).dispatch(results)).settled;
    });
    expect(settled.map((event) => event.id)).toEqual(ids);
    expect(endpoint.requests.length).toBe(callsBefore);
    const workersCache = messages.filter((message) => message.retry.provider === "workers-cache");
    expect(workersCache).toHaveLength(1);
    expect(workersCache[0]).toMatchObject({
      retry: {
        provider: "workers-cache",
        pathPrefixes: [],
        everything: false,
        batchKey: combinedBatchKey(ids),
      },
      eventIds: ids,
      lastError: DEFERRED_PURGE_REASON,
    });
    // Only the order books' tags: the other classes' copies expire before a purge would land.
    const owed = workersCache[0]?.retry.provider === "workers-cache" ? workersCache[0].retry.tags : [];
    const orderBookTags = results.flatMap((result) =>
      result.plan.tags.filter((tag) => tag.startsWith("orderbook")),
    );
    expect(owed).toEqual([...new Set(orderBookTags)].sort());
    const stored = sqsFake
      .messages(RETRY_QUEUE)
      .filter((queued) => !before.has(queued.messageId))
      .find((queued) => queued.body.includes('"workers-cache"'));
    expect((stored?.visibleAt ?? 0) - (stored?.sentAt ?? 0)).toBe(DEFERRED_PURGE_DELAY_SECONDS * 1000);
  });

  it("owes Workers Cache nothing for a booking under the default front TTLs (1 s for every event-covered class)", () => {
    const purgers = workersCachePurgers(DEFAULT_DATA_CLASS_POLICIES);
    const [result] = bookings(1, "dispatch-wc-defaults");
    expect(purgers.workersCacheTargets(result?.plan.tags ?? [])).toEqual({
      tags: [],
      pathPrefixes: [],
      everything: false,
    });
    expect(purgers.workersCacheTargets([tags.reference("regions")]).tags).toEqual(["ref:regions"]);
  });

  it("without a queue, purges the delivery in the request as one plan, and settles it", async () => {
    const results = bookings(30, "dispatch-wc-inline");
    const before = endpoint.requests.length;
    const { lines, logger } = recordingLogger();
    const { settled } = await createPurgeDispatcher(workersCachePurgers(), logger).dispatch(results);
    expect(lines).toEqual([]);
    expect(settled).toHaveLength(30);
    const calls = endpoint.requests.slice(before);
    // 30 bookings' tags (30 GPUs, their listings, stats and order books) in one plan: a call per 100.
    const owed = new Set(results.flatMap((result) => result.plan.tags));
    expect(calls.map((call) => call.status)).toEqual(Array(Math.ceil(owed.size / 100)).fill(200));
    for (const tag of results.flatMap((result) => result.plan.tags)) expect(endpoint.purged(tag)).toBe(true);
  });

  it("without a queue and without tokens, leaves the delivery unsettled; the re-delivery after a refill settles it", async () => {
    const results = bookings(2, "dispatch-wc-empty");
    const prefix = uniquePrefix("dispatch-wc-empty");
    const keys = createKeyspace(prefix);
    const drained = createSharedTokenBucket({
      redis: upstashClient(),
      key: keys.workersCachePurgeBucket,
      capacity: 25,
      perMinute: 5,
      clock,
    });
    await drained.take(25);
    const before = endpoint.requests.length;
    const { lines, logger } = recordingLogger();
    const first = await createPurgeDispatcher(workersCachePurgers(frontTtls(), prefix), logger).dispatch(
      results,
    );
    expect(first.settled).toEqual([]);
    expect(endpoint.requests.length).toBe(before);
    expect(lines.find((line) => line.message === "purge failed in the request, owed")?.fields).toMatchObject({
      provider: "workers-cache",
      eventCount: 2,
      error: expect.stringMatching(/no purge token/),
    });
    clock.advance(12_000);
    const again = await createPurgeDispatcher(workersCachePurgers(frontTtls(), prefix), silent).dispatch(
      results,
    );
    expect(again.settled.map((event) => event.id)).toEqual(results.map((result) => result.event.id));
    expect(endpoint.requests.slice(before).map((request) => request.status)).toEqual([200]);
  });
});
