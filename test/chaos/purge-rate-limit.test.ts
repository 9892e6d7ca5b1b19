/**
 * The purge APIs rate-limit for minutes (test/support/chaos/rate-limited-api.ts in front of the
 * CDN fakes): the zone API answers 429 and CloudFront TooManyInvalidationsInProgress for five
 * minutes on the injected clock while events keep arriving. Each delivery's purges are owed to
 * the retry queue (SQS fake on the same clock), the retry handler (polled as the SQS event source
 * polls, lambdas/retry/) replays them with its back-off, and once the limit is over every owed
 * purge reaches its API: nothing is left in the queue or dead-lettered, and every tag and path an
 * event owed was purged.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CloudFrontFake,
  type CloudflareFake,
  startCloudFrontFake,
  startCloudflareFake,
} from "../../dev/fakes";
import { type SqsFake, startSqsFake } from "../../dev/fakes/sqs";
import { RETRY_DLQ, RETRY_QUEUE, RETRY_QUEUES } from "../../dev/local/event-pipeline";
import { createRetryPoller, type RetryPoller } from "../../dev/local/retry-poller";
import { createPurgeDispatcher } from "../../lambdas/events/purge-dispatcher";
import { createPurgers, parsePurgeSettings } from "../../lambdas/purge/config";
import { createRetryHandler } from "../../lambdas/retry/handler";
import { decodeRetryMessage } from "../../lambdas/retry/message";
import { createRetryQueue } from "../../lambdas/retry/retry-queue";
import { SILENT_LOGGER } from "../../lambdas/shared/logger";
import { appliedBookings } from "../support/applied-events";
import { reportFigures } from "../support/chaos/figures";
import { type RateLimitedApi, startRateLimitedApi } from "../support/chaos/rate-limited-api";
import { ManualClock } from "../support/manual-clock";
import { ManualTimers } from "../support/manual-timers";
import { sqsClient } from "../support/sqs-client";

const LIMITED_MS = 5 * 60_000;
/** How often the test polls the queue, as the event source would (its own cadence is seconds). */
const POLL_EVERY_MS = 5_000;

let clock: ManualClock;
let cloudflare: CloudflareFake;
let cloudfront: CloudFrontFake;
let zoneApi: RateLimitedApi;
let cloudfrontApi: RateLimitedApi;
let sqsFake: SqsFake;
let poller: RetryPoller | undefined;

beforeEach(async () => {
  clock = new ManualClock(Date.parse("2026-11-05T12:00:00Z"));
  cloudflare = await startCloudflareFake({ apiToken: "token" });
  cloudfront = await startCloudFrontFake({ now: clock.now });
  zoneApi = await startRateLimitedApi({ provider: "cloudflare", target: cloudflare.url, clock });
  cloudfrontApi = await startRateLimitedApi({ provider: "cloudfront", target: cloudfront.url, clock });
  sqsFake = await startSqsFake({ queues: RETRY_QUEUES, now: clock.now });
});
afterEach(async () => {
  await poller?.stop();
  for (const closing of [zoneApi, cloudfrontApi, cloudflare, cloudfront, sqsFake]) await closing.close();
});

/** Whether `path` was invalidated, itself or under a wildcard that covers it. */
function covered(path: string, invalidated: readonly string[]): boolean {
  return invalidated.some(
    (done) => done === path || (done.endsWith("*") && path.startsWith(done.slice(0, -1))),
  );
}

describe("purge APIs rate-limited for minutes", () => {
  it("every purge an event owed is sent once the limit is over: none dead-lettered, none lost", {
    timeout: 60_000,
  }, async () => {
    const distributionId = `E${randomUUID().slice(0, 8).toUpperCase()}`;
    const settings = parsePurgeSettings({
      CLOUDFLARE_API_TOKEN: "token",
      CLOUDFLARE_ZONE_ID: "zone",
      CLOUDFLARE_BASE_URL: `${zoneApi.url}/client/v4`,
      CLOUDFLARE_MAX_RETRIES: "1",
      CLOUDFRONT_DISTRIBUTION_ID: distributionId,
      CLOUDFRONT_ENDPOINT: cloudfrontApi.url,
    });
    // The back-off inside one invocation is the purgers' own; the minutes pass between receives.
    const purgers = () =>
      createPurgers(settings, { logger: SILENT_LOGGER, cloudFront: { sleep: async () => {} } });
    const sqs = sqsClient(sqsFake);
    const queueUrl = sqsFake.queueUrl(RETRY_QUEUE);
    const dispatcher = createPurgeDispatcher(
      purgers(),
      SILENT_LOGGER,
      createRetryQueue({ client: sqs, queueUrl }),
      clock,
    );
    const handler = createRetryHandler({
      purgers: purgers(),
      sqs,
      queueUrl,
      logger: SILENT_LOGGER,
      maxReceiveCount: RETRY_QUEUES[0].redrivePolicy.maxReceiveCount,
      clock,
    });
    poller = createRetryPoller({
      sqs,
      queueUrl,
      handler,
      timers: new ManualTimers(clock),
      logger: SILENT_LOGGER,
    });

    zoneApi.limitFor(LIMITED_MS);
    cloudfrontApi.limitFor(LIMITED_MS);
    const limitEnds = zoneApi.limitedUntil;

    // Six deliveries of two events each, one every 20 s inside the limit: each is acknowledged
    // once its purges are done or safely queued.
    const events = appliedBookings(12, `chaos-purge-${randomUUID().slice(0, 8)}`);
    const owed = { tags: new Set<string>(), paths: new Set<string>() };
    let messages = 0;
    for (let delivery = 0; delivery < 6; delivery++) {
      const results = events.slice(delivery * 2, delivery * 2 + 2);
      const queuedBefore = new Set(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId));
      const { settled } = await dispatcher.dispatch(results);
      expect(settled.map((event) => event.id).sort()).toEqual(
        results.map((result) => result.event.id).sort(),
      );
      for (const message of sqsFake.messages(RETRY_QUEUE)) {
        if (queuedBefore.has(message.messageId)) continue;
        messages += 1;
        const decoded = decodeRetryMessage(message.body);
        if (!decoded.ok) throw new Error(`poison in the queue: ${decoded.poison}`);
        const { retry } = decoded.message;
        if (retry.provider === "cloudflare") for (const tag of retry.tags) owed.tags.add(tag);
        if (retry.provider === "cloudfront") for (const path of retry.paths) owed.paths.add(path);
      }
      clock.advance(20_000);
      await poller.pollOnce();
    }
    expect(owed.tags.size).toBeGreaterThan(0);
    expect(owed.paths.size).toBeGreaterThan(0);

    // The event source keeps polling; the queue's visibility back-off spaces the replays.
    let firstThroughAt = 0;
    const purgesBefore = cloudflare.purges.length + cloudfront.purges.length;
    while (clock.now() < limitEnds + 20 * 60_000) {
      clock.advance(POLL_EVERY_MS);
      await poller.pollOnce();
      if (cloudflare.purges.length + cloudfront.purges.length > purgesBefore && firstThroughAt === 0)
        firstThroughAt = clock.now();
      if (sqsFake.messages(RETRY_QUEUE).length === 0) break;
    }

    const tagsPurged = cloudflare.purges.flatMap((purge) => purge.items);
    const pathsInvalidated = cloudfront.purges.flatMap((invalidation) => invalidation.paths);
    const lostTags = [...owed.tags].filter((tag) => !tagsPurged.includes(tag));
    const lostPaths = [...owed.paths].filter((path) => !covered(path, pathsInvalidated));
    const deadLettered = sqsFake.messages(RETRY_DLQ).length;
    reportFigures({
      scenario: "purge APIs rate-limited 5 min (zone 429, CloudFront TooManyInvalidationsInProgress)",
      eventsAcknowledged: events.length,
      eventsLost: 0,
      purgesOwed: owed.tags.size + owed.paths.size,
      purgesLost: lostTags.length + lostPaths.length + deadLettered,
      notes: {
        "queued messages": messages,
        "refused by the limit": zoneApi.counts.limited + cloudfrontApi.counts.limited,
        "queue empty, ms after the limit":
          sqsFake.messages(RETRY_QUEUE).length === 0 ? clock.now() - limitEnds : "never",
        "dead-lettered": deadLettered,
      },
    });

    // The limit was felt: purges were refused, and none got through while it lasted.
    expect(zoneApi.counts.limited).toBeGreaterThan(0);
    expect(cloudfrontApi.counts.limited).toBeGreaterThan(0);
    expect(firstThroughAt).toBeGreaterThanOrEqual(limitEnds);
    // And nothing was lost.
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
    expect(deadLettered).toBe(0);
    expect(lostTags).toEqual([]);
    expect(lostPaths).toEqual([]);
  });
});
