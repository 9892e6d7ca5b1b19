/**
 * The purge-retry handler end to end, with the real purgers against the CDN fakes and
 * the real SQS SDK against the SQS fake (driven through the local poller, as Lambda's
 * event source would): a queued purge succeeds on a later receive; repeated failures
 * are reported in batchItemFailures with a growing visibility back-off until the
 * redrive policy moves the message to the DLQ; poison messages go the same way
 * without failing the batch; a partial batch reports only its failures; CloudFront
 * messages of one batch (more than SQS's 10 per receive, as the poller gathers them)
 * become one invalidation and succeed or fail together. Each replay is a log line naming its
 * message id and metrics per provider; a failure on the last receive is counted as
 * dead-lettered. Time is the fake's injected clock: nothing sleeps.
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  type CloudFrontFake,
  type CloudflareFake,
  startCloudFrontFake,
  startCloudflareFake,
} from "../../../dev/fakes";
import { type SqsFake, startSqsFake } from "../../../dev/fakes/sqs";
import { createRetryPoller, type RetryPoller } from "../../../dev/local/retry-poller";
import { createPurgeDispatcher } from "../../../lambdas/events/purge-dispatcher";
import { createPurgers, type PurgeEnv, parsePurgeSettings } from "../../../lambdas/purge/config";
import type { PurgeRetry } from "../../../lambdas/purge/purger";
import {
  createRetryHandler,
  type RetryHandler,
  retryDelaySeconds,
  type SqsBatchResponse,
} from "../../../lambdas/retry/handler";
import { decodeRetryMessage, encodeRetryMessage, retryMessage } from "../../../lambdas/retry/message";
import { createRetryQueue } from "../../../lambdas/retry/retry-queue";
import { METRICS_NAMESPACE, type Metrics } from "../../../lambdas/shared/metrics";
import { ManualClock } from "../../support/manual-clock";
import { ManualTimers } from "../../support/manual-timers";
import { emfLines, jsonLinesOf } from "../shared/stdout";
import {
  bookings,
  RETRY_DLQ,
  RETRY_QUEUE,
  RETRY_QUEUES,
  receiveEvent,
  recordingLogger,
  recordingMetrics,
  silent,
  sqsClient,
} from "./helpers";

let cloudflare: CloudflareFake;
let cloudfront: CloudFrontFake;
beforeAll(async () => {
  cloudflare = await startCloudflareFake({ apiToken: "token", retryAfter: "0" });
  cloudfront = await startCloudFrontFake({});
});
afterAll(async () => {
  await Promise.all([cloudflare.close(), cloudfront.close()]);
});

const distributionId = `E${randomUUID().slice(0, 8).toUpperCase()}`;
const cdnEnv = (): PurgeEnv => ({
  CLOUDFLARE_API_TOKEN: "token",
  CLOUDFLARE_ZONE_ID: "zone",
  CLOUDFLARE_BASE_URL: `${cloudflare.url}/client/v4`,
  // One SDK retry: a failing purge is two 429s.
  CLOUDFLARE_MAX_RETRIES: "1",
  CLOUDFRONT_DISTRIBUTION_ID: distributionId,
  CLOUDFRONT_ENDPOINT: cloudfront.url,
});
const purgers = (env: PurgeEnv = cdnEnv()) =>
  createPurgers(parsePurgeSettings(env), { logger: silent, cloudFront: { sleep: async () => {} } });

// A fresh queue pair per test, on its own clock.
let clock: ManualClock;
let sqsFake: SqsFake;
let sqs: SQSClient;
let queueUrl: string;
let responses: SqsBatchResponse[];
let pollers: RetryPoller[];
beforeEach(async () => {
  clock = new ManualClock(Date.parse("2026-11-01T00:00:00Z"));
  sqsFake = await startSqsFake({ queues: RETRY_QUEUES, now: clock.now });
  sqs = sqsClient(sqsFake);
  queueUrl = sqsFake.queueUrl(RETRY_QUEUE);
  responses = [];
  pollers = [];
});
afterEach(async () => {
  for (const poller of pollers) await poller.stop();
  sqs.destroy();
  await sqsFake.close();
});

/** The retry handler (recording its answers) behind a poller whose timer never fires: tests poll by hand. */
function setup(
  options: {
    env?: PurgeEnv;
    logger?: ReturnType<typeof recordingLogger>["logger"];
    metrics?: Metrics;
    maxReceiveCount?: number;
  } = {},
) {
  const inner = createRetryHandler({
    purgers: purgers(options.env),
    sqs,
    queueUrl,
    logger: options.logger ?? silent,
    clock,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.maxReceiveCount !== undefined ? { maxReceiveCount: options.maxReceiveCount } : {}),
  });
  const handler: RetryHandler = async (event) => {
    const response = await inner(event);
    responses.push(response);
    return response;
  };
  const poller = createRetryPoller({ sqs, queueUrl, handler, timers: new ManualTimers(), logger: silent });
  pollers.push(poller);
  return { handler, poller };
}

async function enqueue(retry: PurgeRetry, eventIds = [`evt-${randomUUID()}`]): Promise<string> {
  const [result] = await createRetryQueue({ client: sqs, queueUrl, delaySeconds: 0 }).enqueue([
    retryMessage(retry, eventIds, "failed before", clock),
  ]);
  if (!result?.ok) throw new Error(`not queued: ${result?.error}`);
  return result.messageId;
}

const tagsPurged = () => cloudflare.purges.flatMap((purge) => purge.items);

const LAMBDA_CONTEXT = {
  awsRequestId: "req-retry-1",
  functionName: "Retry",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:Retry",
  memoryLimitInMB: "512",
};

describe("retryDelaySeconds", () => {
  it("doubles from 30 s per receive and stops at 15 min", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 500].map((n) => retryDelaySeconds(n))).toEqual([
      30, 60, 120, 240, 480, 900, 900, 900,
    ]);
    expect(retryDelaySeconds(0)).toBe(30);
    expect(retryDelaySeconds(Number.NaN)).toBe(30);
    expect(retryDelaySeconds(3, { baseSeconds: 5, maxSeconds: 12 })).toBe(12);
  });
});

describe("purge-retry handler", () => {
  it("a purge that failed after the SDK's retries is queued, then done on the next receive", async () => {
    const recording = recordingMetrics();
    const { lines, logger } = recordingLogger();
    const { poller } = setup({ metrics: recording.metrics, logger });
    const [result] = bookings(1, "retry-flow");
    if (!result) throw new Error("no booking");
    cloudflare.failNext(2, "rate-limit", "0");
    const purgesAtStart = cloudflare.purges.length;
    const failedAt = clock.now();
    const { CLOUDFRONT_DISTRIBUTION_ID: _id, ...cloudflareOnly } = cdnEnv();
    const dispatcher = createPurgeDispatcher(
      // Without CloudFront: its purge would be deferred to this queue too.
      purgers(cloudflareOnly),
      silent,
      createRetryQueue({ client: sqs, queueUrl }), // the default 30 s delay
      clock,
      recording.metrics,
    );
    expect((await dispatcher.dispatch([result])).settled.map((event) => event.id)).toEqual([result.event.id]);

    const [queued] = sqsFake.messages(RETRY_QUEUE);
    const decoded = decodeRetryMessage(queued?.body ?? "");
    expect(decoded).toMatchObject({
      ok: true,
      message: {
        v: 1,
        retry: { provider: "cloudflare", zoneId: "zone", batchKey: result.event.id },
        eventIds: [result.event.id],
      },
    });
    const firstFailedAt = Date.parse(decoded.ok ? decoded.message.firstFailedAt : "");
    expect(firstFailedAt).toBe(failedAt);
    expect(recording.total("PurgesQueued", { provider: "cloudflare" })).toBe(1);
    const owedTags =
      decoded.ok && decoded.message.retry.provider === "cloudflare" ? decoded.message.retry.tags : [];
    for (const tag of result.plan.tags) expect(owedTags).toContain(tag);
    expect(cloudflare.purges.length).toBe(purgesAtStart);

    // Delayed 30 s: nothing to receive before then.
    expect(await poller.pollOnce()).toEqual({ received: 0, deleted: 0, failed: 0 });
    clock.advance(30_000);
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(responses).toEqual([{ batchItemFailures: [] }]);
    const purged = cloudflare.purges.slice(purgesAtStart).flatMap((purge) => purge.items);
    expect([...purged].sort()).toEqual([...owedTags].sort());
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);

    // The replay: one line naming the message the event Lambda queued, and how long it waited.
    expect(recording.values("QueuedPurgeAge", { provider: "cloudflare" })).toEqual([30_000]);
    expect(recording.total("PurgesRetried", { provider: "cloudflare" })).toBe(1);
    expect(recording.total("PurgesRetryFailed")).toBe(0);
    expect(lines.find((line) => line.message === "purge retry done")?.fields).toMatchObject({
      messageId: queued?.messageId,
      provider: "cloudflare",
      eventIds: [result.event.id],
      receiveCount: 1,
      ageMs: 30_000,
    });
  });

  it("reports repeated failures, backs off 30 s · 2^(n-1), and after 5 receives the message is in the DLQ", async () => {
    const recording = recordingMetrics();
    const { lines, logger } = recordingLogger();
    // As the stack passes the queue's redrive maxReceiveCount (PURGE_RETRY_MAX_RECEIVE_COUNT).
    const { poller } = setup({ metrics: recording.metrics, logger, maxReceiveCount: 5 });
    const tag = `gpu:dlq-${randomUUID()}`;
    const messageId = await enqueue({
      provider: "cloudflare",
      zoneId: "zone",
      tags: [tag],
      batchKey: "evt-dlq",
    });
    const body = sqsFake.messages(RETRY_QUEUE)[0]?.body;
    const delays: number[] = [];
    for (let receive = 1; receive <= 5; receive++) {
      cloudflare.failNext(2, "rate-limit", "0");
      expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
      expect(responses.at(-1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
      const [stored] = sqsFake.messages(RETRY_QUEUE);
      expect(stored).toMatchObject({ messageId, receiveCount: receive, state: "in-flight" });
      const delay = (stored?.visibleAt ?? 0) - clock.now();
      delays.push(delay / 1000);
      // Not a moment earlier.
      clock.advance(delay - 1);
      expect((await poller.pollOnce()).received).toBe(0);
      clock.advance(1);
    }
    expect(delays).toEqual([30, 60, 120, 240, 480]);
    const visibilityChanges = sqsFake.requests.filter(
      (request) => request.action === "ChangeMessageVisibility",
    );
    expect(visibilityChanges.map((request) => [request.status, request.input.VisibilityTimeout])).toEqual([
      [200, 30],
      [200, 60],
      [200, 120],
      [200, 240],
      [200, 480],
    ]);
    // The sixth receive finds it past maxReceiveCount: the redrive policy moves it; the handler never sees it.
    expect(await poller.pollOnce()).toEqual({ received: 0, deleted: 0, failed: 0 });
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
    expect(sqsFake.messages(RETRY_DLQ)).toMatchObject([
      { messageId, body, receiveCount: 5, deadLetterSourceQueue: RETRY_QUEUE },
    ]);
    // Five replays, all failed; the fifth, the last receive, counted and logged as dead-lettered.
    expect(recording.total("PurgesRetried", { provider: "cloudflare" })).toBe(5);
    expect(recording.total("PurgesRetryFailed", { provider: "cloudflare" })).toBe(5);
    expect(recording.total("PurgesDeadLettered")).toBe(1);
    const failures = lines.filter((line) => line.fields.messageId === messageId);
    expect(
      failures.map((line) => [line.level, line.fields.receiveCount, line.fields.nextAttemptSeconds]),
    ).toEqual([
      ["warn", 1, 30],
      ["warn", 2, 60],
      ["warn", 3, 120],
      ["warn", 4, 240],
      ["error", 5, 480],
    ]);
    expect(failures.at(-1)?.message).toMatch(/dead-letter queue/);
    expect(failures.at(-1)?.fields).toMatchObject({
      maxReceiveCount: 5,
      error: expect.stringMatching(/429|rate/i),
    });
    expect(tagsPurged()).not.toContain(tag);
    expect(responses).toHaveLength(5);
  });

  it("reports poison messages (logged with their id) without failing the batch; they end in the DLQ", async () => {
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    const { poller } = setup({ logger, metrics: recording.metrics, maxReceiveCount: 5 });
    const send = async (body: string) =>
      (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))).MessageId ?? "";
    const notJson = await send("{this is not json");
    const future = await send(
      JSON.stringify({
        ...retryMessage({ provider: "cloudflare", zoneId: "z", tags: ["t"], batchKey: "k" }, [], "e", clock),
        v: 2,
      }),
    );
    const tag = `gpu:good-${randomUUID()}`;
    const good = await enqueue({ provider: "cloudflare", zoneId: "zone", tags: [tag], batchKey: "evt-good" });

    expect(await poller.pollOnce()).toEqual({ received: 3, deleted: 1, failed: 2 });
    expect(responses[0]?.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [notJson, future].sort(),
    );
    expect(tagsPurged()).toContain(tag);
    const errors = lines.filter((line) => line.level === "error");
    expect(errors).toHaveLength(2);
    expect(errors.find((line) => line.fields.messageId === notJson)).toMatchObject({
      message: "poison retry message",
      fields: { problem: "body is not JSON", receiveCount: 1, lastReceive: false, bodyBytes: 17 },
    });
    expect(errors.find((line) => line.fields.messageId === future)?.fields.problem).toMatch(/^v: /);
    // An unreadable body is not logged: the DLQ keeps it.
    expect(lines.some((line) => line.text.includes("this is not json"))).toBe(false);
    expect(lines.at(-1)).toMatchObject({
      message: "purge retry batch",
      fields: { messages: 3, done: 1, failedAgain: 0, poison: 2, deadLettered: 0 },
    });
    expect(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId)).not.toContain(good);

    // Same back-off as any failure; the redrive policy moves them on the sixth receive.
    for (let receive = 2; receive <= 6; receive++) {
      clock.advance(retryDelaySeconds(receive - 1) * 1000);
      await poller.pollOnce();
    }
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
    expect(
      sqsFake
        .messages(RETRY_DLQ)
        .map((message) => message.messageId)
        .sort(),
    ).toEqual([notJson, future].sort());
    // Each receive counts them as poison; the fifth, their last, as dead-lettered too.
    expect(recording.total("PoisonMessages")).toBe(10);
    expect(recording.total("PurgesDeadLettered")).toBe(2);
  });

  it("in a partial batch reports only the failing message and deletes the other", async () => {
    const { poller } = setup();
    const tag = `gpu:partial-${randomUUID()}`;
    const done = await enqueue({ provider: "cloudflare", zoneId: "zone", tags: [tag], batchKey: "evt-a" });
    const failing = await enqueue({
      provider: "cloudfront",
      distributionId,
      paths: [`/v1/gpus/${randomUUID()}`],
      batchKey: "evt-b",
    });
    cloudfront.failNext(1, "AccessDenied");
    expect(await poller.pollOnce()).toEqual({ received: 2, deleted: 1, failed: 1 });
    expect(responses).toEqual([{ batchItemFailures: [{ itemIdentifier: failing }] }]);
    expect(tagsPurged()).toContain(tag);
    expect(sqsFake.messages(RETRY_QUEUE)).toMatchObject([
      { messageId: failing, state: "in-flight", visibleAt: clock.now() + 30_000 },
    ]);
    expect(sqsFake.messages(RETRY_QUEUE).map((message) => message.messageId)).not.toContain(done);

    // The next attempt replays the same invalidation and succeeds.
    clock.advance(30_000);
    const before = cloudfront.purges.length;
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 1, failed: 0 });
    expect(cloudfront.purges.slice(before)).toHaveLength(1);
  });

  it("coalesces a batch's CloudFront messages (more than 10 per poll) into one CreateInvalidation and acknowledges them all", async () => {
    const { lines, logger } = recordingLogger();
    const { poller } = setup({ logger });
    const marker = randomUUID();
    const paths = Array.from({ length: 25 }, (_, index) => `/v1/gpus/${marker}-${index}`);
    for (const [index, path] of paths.entries())
      await enqueue({
        provider: "cloudfront",
        distributionId,
        paths: [path, "/v1/gpus*"],
        batchKey: `evt-${index}`,
      });
    const callsBefore = cloudfront.requests.filter((request) => request.method === "POST").length;
    const before = cloudfront.purges.length;
    expect(await poller.pollOnce()).toEqual({ received: 25, deleted: 25, failed: 0 });
    expect(responses).toEqual([{ batchItemFailures: [] }]);
    expect(cloudfront.requests.filter((request) => request.method === "POST").length).toBe(callsBefore + 1);
    const invalidations = cloudfront.purges.slice(before);
    expect(invalidations).toHaveLength(1);
    // The wildcard covers the single paths: normalised away, nothing lost.
    expect(invalidations[0]?.paths).toEqual(["/v1/gpus*"]);
    expect(sqsFake.messages(RETRY_QUEUE)).toEqual([]);
    expect(
      lines.find((line) => line.message === "CloudFront retry messages replayed as one invalidation")?.fields,
    ).toMatchObject({ distributionId, messages: 25 });
  });

  it("reports every message of a failed coalesced CloudFront invalidation, with the back-off", async () => {
    const { poller } = setup();
    const ids: string[] = [];
    for (let index = 0; index < 4; index++)
      ids.push(
        await enqueue({
          provider: "cloudfront",
          distributionId,
          paths: [`/v1/gpus/${randomUUID()}`],
          batchKey: `evt-fail-${index}`,
        }),
      );
    const callsBefore = cloudfront.requests.filter((request) => request.method === "POST").length;
    cloudfront.failNext(1, "AccessDenied");
    expect(await poller.pollOnce()).toEqual({ received: 4, deleted: 0, failed: 4 });
    expect(cloudfront.requests.filter((request) => request.method === "POST").length).toBe(callsBefore + 1);
    expect(responses[0]?.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [...ids].sort(),
    );
    for (const message of sqsFake.messages(RETRY_QUEUE))
      expect(message).toMatchObject({ state: "in-flight", visibleAt: clock.now() + 30_000 });

    // Retried together, again as one invalidation.
    clock.advance(30_000);
    const before = cloudfront.purges.length;
    expect(await poller.pollOnce()).toEqual({ received: 4, deleted: 4, failed: 0 });
    expect(cloudfront.purges.slice(before)).toHaveLength(1);
    expect(cloudfront.purges.at(-1)?.paths).toHaveLength(4);
  });

  it("keeps a message for a provider it is not configured for, instead of dropping it as done", async () => {
    const { lines, logger } = recordingLogger();
    const { CLOUDFLARE_API_TOKEN: _token, ...withoutCloudflare } = cdnEnv();
    const { poller } = setup({ env: withoutCloudflare, logger });
    const messageId = await enqueue({
      provider: "cloudflare",
      zoneId: "zone",
      tags: ["gpu:x"],
      batchKey: "k",
    });
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(responses).toEqual([{ batchItemFailures: [{ itemIdentifier: messageId }] }]);
    expect(
      lines.some((line) => line.level === "warn" && /cloudflare is not configured/.test(line.text)),
    ).toBe(true);
  });

  it("the poller keeps a whole batch when the handler throws, as Lambda does", async () => {
    await enqueue({ provider: "cloudflare", zoneId: "zone", tags: ["gpu:y"], batchKey: "k" });
    const poller = createRetryPoller({
      sqs,
      queueUrl,
      handler: async () => {
        throw new Error("boom");
      },
      timers: new ManualTimers(),
      logger: silent,
    });
    pollers.push(poller);
    expect(await poller.pollOnce()).toEqual({ received: 1, deleted: 0, failed: 1 });
    expect(sqsFake.messages(RETRY_QUEUE)).toHaveLength(1);
  });

  it("the Lambda entry builds itself from the environment and acknowledges a done purge", async () => {
    const saved = { ...process.env };
    onTestFinished(() => {
      process.env = saved;
    });
    Object.assign(process.env, cdnEnv(), {
      PURGE_RETRY_QUEUE_URL: queueUrl,
      SQS_ENDPOINT: sqsFake.url,
      PURGE_RETRY_MAX_RECEIVE_COUNT: "5",
    });
    const { handler } = await import("../../../lambdas/retry/handler");
    const tag = `gpu:lambda-${randomUUID()}`;
    const body = encodeRetryMessage(
      retryMessage(
        { provider: "cloudflare", zoneId: "zone", tags: [tag], batchKey: "evt-l" },
        ["evt-l"],
        "e",
        clock,
      ),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const event = await receiveEvent(sqs, queueUrl);
    expect(event.Records).toHaveLength(1);
    const { result, lines } = await jsonLinesOf(() => handler(event, LAMBDA_CONTEXT));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(tagsPurged()).toContain(tag);

    // The real powertools Logger: JSON lines with the request id, the message id, the audit of the call.
    const messageId = event.Records[0]?.messageId;
    expect(lines.find((line) => line.message === "purge retry done")).toMatchObject({
      service: "gpu-edge-cache-retry",
      function_request_id: "req-retry-1",
      messageId,
      provider: "cloudflare",
      eventIds: ["evt-l"],
      maxReceiveCount: 5,
    });
    expect(lines.find((line) => line.audit === "purge-call")).toMatchObject({
      provider: "cloudflare",
      batchKey: "evt-l",
      targets: 1,
      outcome: "accepted",
      function_request_id: "req-retry-1",
    });
    // And the real powertools Metrics, flushed as EMF at the end of the invocation.
    const emf = emfLines(lines);
    expect(emf.every((line) => line._aws.CloudWatchMetrics[0]?.Namespace === METRICS_NAMESPACE)).toBe(true);
    const cloudflareLine = emf.find((line) => line.provider === "cloudflare");
    expect(cloudflareLine).toMatchObject({ PurgesRetried: 1, PurgeCalls: 1, PurgeTargets: 1 });
    expect(cloudflareLine?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "provider"]]);
    expect(cloudflareLine?._aws.CloudWatchMetrics[0]?.Metrics.map((metric) => metric.Name).sort()).toEqual(
      ["PurgeCalls", "PurgeTargets", "PurgesRetried", "QueuedPurgeAge"].sort(),
    );
  });
});
