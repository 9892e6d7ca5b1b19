/**
 * Workers Cache purges through the retry queue, end to end: the event Lambda's dispatcher
 * defers each delivery to the SQS fake, the local poller hands batches to the real retry
 * handler (as Lambda's event source would), and the handler plans each batch's messages
 * together and sends the calls, signed, to a real local HTTP server standing in for the
 * Worker's endpoint, spending tokens from the shared bucket in the real redis-server.
 *
 * The "done when": a burst of 1,000 events costs at most the bucket's 25 calls and
 * purges every tag, nothing lost; a rate-limited call (a 503 from the Worker, or no token) is
 * re-queued and done later; a tag set too large for the tokens falls back to prefixes. Time
 * is one manual clock for the queue, the bucket and the signatures: nothing sleeps.
 */
import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DataClassPolicies, DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import { type SqsFake, startSqsFake } from "../../../dev/fakes/sqs";
import { createRetryPoller, type RetryPoller } from "../../../dev/local/retry-poller";
import { createPurgeDispatcher } from "../../../lambdas/events/purge-dispatcher";
import { createPurgers, parsePurgeSettings } from "../../../lambdas/purge/config";
import { createSharedTokenBucket, type WorkersCacheRetry } from "../../../lambdas/purge/workers-cache";
import { createRetryHandler, retryDelaySeconds, type SqsBatchResponse } from "../../../lambdas/retry/handler";
import { retryMessage } from "../../../lambdas/retry/message";
import { createRetryQueue } from "../../../lambdas/retry/retry-queue";
import { ManualClock } from "../../support/manual-clock";
import { ManualTimers } from "../../support/manual-timers";
import { uniquePrefix, upstashClient } from "../../support/redis";
import { type PurgeEndpoint, startPurgeEndpoint } from "../../support/worker-purge-endpoint";
import {
  bookings,
  RETRY_DLQ,
  RETRY_QUEUE,
  RETRY_QUEUES,
  recordingLogger,
  silent,
  sqsClient,
} from "./helpers";

const SECRET = "whsec_cmV0cnktaGFuZGxlci1wdXJnZS1zZWNyZXQ=";

/** Every class's copies outlive a purge here, so every tag is owed (the filter is tested elsewhere). */
const LONG_FRONT: DataClassPolicies = Object.fromEntries(
  Object.entries(DEFAULT_DATA_CLASS_POLICIES).map(([name, policy]) => [
    name,
    { ...policy, cdnMaxAgeSeconds: 60 },
  ]),
) as unknown as DataClassPolicies;

// Real time to start with: the stand-in checks each signature's timestamp against the same clock.
let clock: ManualClock;
let endpoint: PurgeEndpoint;
let sqsFake: SqsFake;
let sqs: SQSClient;
let queueUrl: string;
let keys: Keyspace;
let responses: SqsBatchResponse[];
let pollers: RetryPoller[];

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  endpoint = await startPurgeEndpoint({ secret: SECRET, now: () => clock.now() });
});
afterAll(async () => {
  await endpoint.close();
});
beforeEach(async () => {
  sqsFake = await startSqsFake({ queues: RETRY_QUEUES, now: () => clock.now() });
  sqs = sqsClient(sqsFake);
  queueUrl = sqsFake.queueUrl(RETRY_QUEUE);
  // A fresh, full bucket per test.
  keys = createKeyspace(uniquePrefix("retry-wc"));
  responses = [];
  pollers = [];
});
afterEach(async () => {
  for (const poller of pollers) await poller.stop();
  sqs.destroy();
  await sqsFake.close();
});

/** Both Lambdas' purgers: the same settings, the same Redis bucket. */
const purgers = () =>
  createPurgers(
    parsePurgeSettings({ WORKERS_CACHE_PURGE_URL: endpoint.url, WORKERS_CACHE_PURGE_SECRET: SECRET }),
    {
      logger: silent,
      redis: { client: upstashClient(), keys },
      policies: LONG_FRONT,
      workersCache: { clock },
    },
  );
const bucket = () =>
  createSharedTokenBucket({
    redis: upstashClient(),
    key: keys.workersCachePurgeBucket,
    capacity: 25,
    perMinute: 5,
    clock,
  });

/** The retry handler behind a poller whose timer never fires: tests poll by hand. */
function setup(logger: Parameters<typeof createRetryHandler>[0]["logger"] = silent) {
  const inner = createRetryHandler({ purgers: purgers(), sqs, queueUrl, logger });
  const poller = createRetryPoller({
    sqs,
    queueUrl,
    handler: async (event) => {
      const response = await inner(event);
      responses.push(response);
      return response;
    },
    timers: new ManualTimers(),
    logger: silent,
  });
  pollers.push(poller);
  return poller;
}

async function enqueue(retry: Omit<WorkersCacheRetry, "provider">, eventIds = [`evt-${randomUUID()}`]) {
  const [result] = await createRetryQueue({ client: sqs, queueUrl, delaySeconds: 0 }).enqueue([
    retryMessage({ provider: "workers-cache", ...retry }, eventIds, "deferred", clock),
  ]);
  if (!result?.ok) throw new Error(`not queued: ${result?.error}`);
  return result.messageId;
}

/** Polls until nothing is visible at this instant; the totals. */
async function drain(poller: RetryPoller) {
  const total = { received: 0, deleted: 0, failed: 0 };
  for (;;) {
    const round = await poller.pollOnce();
    if (round.received === 0) return total;
    total.received += round.received;
    total.deleted += round.deleted;
    total.failed += round.failed;
  }
}

const callsSince = (start: number) => endpoint.requests.slice(start);

describe("Workers Cache purges through the retry queue", () => {
  it("a burst of 1,000 events costs at most the bucket's 25 calls, purges every tag, and loses nothing", async () => {
    const results = bookings(1_000, "burst");
    expect(results).toHaveLength(1_000);
    const requestsBefore = endpoint.requests.length;
    const dispatcher = createPurgeDispatcher(
      purgers(),
      silent,
      createRetryQueue({ client: sqs, queueUrl }),
      clock,
    );
    // One webhook delivery per event: the worst case, 1,000 messages.
    for (let start = 0; start < results.length; start += 50)
      await Promise.all(
        results.slice(start, start + 50).map(async (result) => {
          expect((await dispatcher.dispatch([result])).settled).toHaveLength(1);
        }),
      );
    expect(sqsFake.messages(RETRY_QUEUE)).toHaveLength(1_000);
    // Nothing in the request: every delivery was deferred.
    expect(endpoint.requests.length).toBe(requestsBefore);
    const start = endpoint.requests.length;

    const poller = setup();
    clock.advance(1_000);
    const burst = await drain(poller);
    expect(burst.received).toBe(1_000);
    const calls = callsSince(start);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThanOrEqual(25);
    expect(calls.every((call) => call.status === 200)).toBe(true);
    expect(burst.failed).toBe(0);

    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
    expect(sqsFake.messages(RETRY_DLQ)).toEqual([]);
    const owed = new Set(results.flatMap((result) => result.plan.tags));
    const missed = [...owed].filter((tag) => !endpoint.purged(tag));
    expect(missed).toEqual([]);
  }, 60_000);

  it("re-queues a call the Worker refused with 503; the next receive sends it", async () => {
    const poller = setup();
    const tag = `custom:rl-${randomUUID()}`;
    const messageId = await enqueue({
      tags: [tag],
      pathPrefixes: [],
      everything: false,
      batchKey: "evt-503",
    });
    const start = endpoint.requests.length;
    endpoint.refuseNext(1, 503);
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(responses.at(-1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(callsSince(start).map((call) => call.status)).toEqual([503]);
    expect(sqsFake.messages(RETRY_QUEUE)).toMatchObject([
      { messageId, state: "in-flight", visibleAt: clock.now() + retryDelaySeconds(1) * 1000 },
    ]);
    // The Worker said the account's bucket is empty: ours was drained with it.
    expect((await bucket().take(0)).remaining).toBe(0);
    expect(endpoint.purged(tag)).toBe(false);

    clock.advance(retryDelaySeconds(1) * 1000);
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(endpoint.purged(tag)).toBe(true);
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
  });

  it("re-queues a purge that found the shared bucket empty, without calling the Worker", async () => {
    const poller = setup();
    await bucket().take(25);
    const tag = `custom:empty-${randomUUID()}`;
    const messageId = await enqueue({
      tags: [tag],
      pathPrefixes: [],
      everything: false,
      batchKey: "evt-empty",
    });
    const start = endpoint.requests.length;
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(responses.at(-1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(callsSince(start)).toEqual([]);

    // The back-off outlasts a refill.
    clock.advance(retryDelaySeconds(1) * 1000);
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(callsSince(start).map((call) => call.status)).toEqual([200]);
    expect(endpoint.purged(tag)).toBe(true);
  });

  it("falls back to route prefixes when a batch's tags would not fit the tokens left", async () => {
    const { lines, logger } = recordingLogger();
    const poller = setup(logger);
    await bucket().take(23);
    const marker = randomUUID().slice(0, 8);
    const batches = Array.from({ length: 5 }, (_, message) =>
      Array.from({ length: 100 }, (_, index) => `gpu:${marker}-${message}-${index}`),
    );
    for (const [index, tags] of batches.entries())
      await enqueue({ tags, pathPrefixes: [], everything: false, batchKey: `evt-${index}` });
    const start = endpoint.requests.length;
    expect(await poller.pollOnce()).toEqual({ received: 5, deleted: 5, failed: 0 });
    const calls = callsSince(start);
    // 500 tags want 5 calls; 2 tokens: one call of prefixes, folded into the GPUs' route.
    expect(calls.map((call) => call.body)).toEqual([{ pathPrefixes: ["/v1/gpus"] }]);
    for (const tag of batches.flat()) expect(endpoint.purged(tag)).toBe(true);
    // The token the plan did not use is back.
    expect((await bucket().take(0)).remaining).toBe(1);
    expect(
      lines.find((line) => line.message === "Workers Cache retry messages planned together")?.fields,
    ).toMatchObject({ provider: "workers-cache", messages: 5 });
  });

  it("in a batch where one call fails, reports only the messages whose items it carried", async () => {
    const poller = setup();
    const marker = randomUUID().slice(0, 8);
    // Sorted, the tags go 100 a call: all of a's in the first, b's in the second, c's in the third.
    const owed = (name: string, count: number) =>
      Array.from(
        { length: count },
        (_, index) => `custom:${marker}-${name}-${String(index).padStart(3, "0")}`,
      );
    const a = await enqueue({ tags: owed("a", 100), pathPrefixes: [], everything: false, batchKey: "evt-a" });
    const b = await enqueue({ tags: owed("b", 100), pathPrefixes: [], everything: false, batchKey: "evt-b" });
    const c = await enqueue({ tags: owed("c", 50), pathPrefixes: [], everything: false, batchKey: "evt-c" });
    const start = endpoint.requests.length;
    endpoint.refuseNext(1, 500);
    expect(await poller.pollOnce()).toEqual({ received: 3, deleted: 2, failed: 1 });
    expect(callsSince(start).map((call) => call.status)).toEqual([500, 200, 200]);
    expect(responses.at(-1)).toEqual({ batchItemFailures: [{ itemIdentifier: a }] });
    expect(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId)).toEqual([a]);
    expect(
      [b, c].every((id) => !sqsFake.messages(RETRY_QUEUE).some((message) => message.messageId === id)),
    ).toBe(true);
  });

  it("keeps Workers Cache messages a retry Lambda without its settings cannot send", async () => {
    const { lines, logger } = recordingLogger();
    const inner = createRetryHandler({
      purgers: createPurgers(parsePurgeSettings({}), { logger: silent }),
      sqs,
      queueUrl,
      logger,
    });
    const poller = createRetryPoller({
      sqs,
      queueUrl,
      handler: inner,
      timers: new ManualTimers(),
      logger: silent,
    });
    pollers.push(poller);
    await enqueue({ tags: ["custom:kept"], pathPrefixes: [], everything: false, batchKey: "evt-k" });
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(lines.some((line) => /workers-cache is not configured/.test(line.text))).toBe(true);
  });
});
