/**
 * The producer side with the real SDK against the SQS fake: batches of at most 10 (and
 * the byte limit), one result per message, per-entry failures reported, a failing call
 * reported for its entries instead of thrown, and the settings from the environment.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SqsFake, startSqsFake } from "../../../dev/fakes/sqs";
import { PurgeConfigError } from "../../../lambdas/purge/config";
import { decodeRetryMessage, type RetryMessage, retryMessage } from "../../../lambdas/retry/message";
import {
  createRetryQueue,
  createSqsClient,
  parseRetryQueueSettings,
  retryQueueFromEnv,
} from "../../../lambdas/retry/retry-queue";
import { ManualClock } from "../../support/manual-clock";
import { RETRY_QUEUE, RETRY_QUEUES, sqsClient } from "./helpers";

const clock = new ManualClock();
let fake: SqsFake;
let sqs: SQSClient;

beforeAll(async () => {
  fake = await startSqsFake({ queues: RETRY_QUEUES, now: clock.now });
  sqs = sqsClient(fake);
});
afterAll(async () => {
  sqs.destroy();
  await fake.close();
});
beforeEach(() => {
  // Each test reads the requests it made.
  fake.requests.length = 0;
});

const message = (i: number, tags = [`gpu:g${i}`]): RetryMessage =>
  retryMessage(
    { provider: "cloudflare", zoneId: "zone", tags, batchKey: `evt-${i}` },
    [`evt-${i}`],
    "429",
    clock,
  );

const batchSizes = () =>
  fake.requests
    .filter((request) => request.action === "SendMessageBatch")
    .map((request) => (request.input.Entries as unknown[]).length);

describe("retry queue", () => {
  it("sends 23 messages in batches of 10, 10 and 3 and reports each one's message id", async () => {
    const queue = createRetryQueue({ client: sqs, queueUrl: fake.queueUrl(RETRY_QUEUE), delaySeconds: 0 });
    const before = new Set(fake.messages(RETRY_QUEUE).map((stored) => stored.messageId));
    const messages = Array.from({ length: 23 }, (_, i) => message(i));
    const results = await queue.enqueue(messages);
    expect(batchSizes()).toEqual([10, 10, 3]);
    expect(results.every((result) => result.ok)).toBe(true);
    const stored = fake.messages(RETRY_QUEUE).filter((entry) => !before.has(entry.messageId));
    expect(stored).toHaveLength(23);
    for (const [i, result] of results.entries()) {
      const found = stored.find((entry) => result.ok && entry.messageId === result.messageId);
      expect(found && decodeRetryMessage(found.body)).toEqual({ ok: true, message: messages[i] });
    }
  });

  it("delays a new message by 30 s by default (the purge has just failed its in-process retries)", async () => {
    const queue = createRetryQueue({ client: sqs, queueUrl: fake.queueUrl(RETRY_QUEUE) });
    const [result] = await queue.enqueue([message(100)]);
    const stored = fake
      .messages(RETRY_QUEUE)
      .find((entry) => result?.ok && entry.messageId === result.messageId);
    expect(stored).toMatchObject({ state: "delayed", visibleAt: clock.now() + 30_000 });
    expect(() => createRetryQueue({ client: sqs, queueUrl: "x", delaySeconds: 901 })).toThrow(RangeError);
  });

  it("keeps each call under the byte limit and fails an oversized message without sending it", async () => {
    const queue = createRetryQueue({
      client: sqs,
      queueUrl: fake.queueUrl(RETRY_QUEUE),
      delaySeconds: 0,
      maxBatchBytes: 1_000,
    });
    const big = (i: number) =>
      message(
        i,
        Array.from({ length: 12 }, (_, n) => `gpu:g${i}-${n}-padding`),
      );
    const results = await queue.enqueue([big(1), big(2), big(3), message(4, ["x".repeat(2_000)])]);
    expect(results.slice(0, 3).every((result) => result.ok)).toBe(true);
    expect(results[3]).toMatchObject({ ok: false, error: expect.stringMatching(/exceeds 1000/) });
    const sent = fake.requests.filter((request) => request.action === "SendMessageBatch");
    for (const request of sent) {
      const bytes = (request.input.Entries as Array<{ MessageBody: string }>).reduce(
        (sum, entry) => sum + Buffer.byteLength(entry.MessageBody),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(1_000);
    }
    expect(sent.length).toBeGreaterThan(1);
  });

  it("reports SQS's per-entry failures and an invalid message on their own, the rest as sent", async () => {
    const queue = createRetryQueue({ client: sqs, queueUrl: fake.queueUrl(RETRY_QUEUE), delaySeconds: 0 });
    fake.failNextEntries(1);
    const invalid = { ...message(7), retry: { provider: "cloudflare", zoneId: "", tags: [], batchKey: "" } };
    const results = await queue.enqueue([message(5), invalid as RetryMessage, message(6)]);
    expect(results[0]).toEqual({ ok: false, error: "InternalError: injected failure" });
    expect(results[1]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not a valid retry message/),
    });
    expect(results[2]).toMatchObject({ ok: true, messageId: expect.any(String) });
  });

  it("reports a failing call for each of its messages instead of throwing", async () => {
    const queue = createRetryQueue({ client: sqs, queueUrl: `${fake.url}/000000000000/no-such-queue` });
    const results = await queue.enqueue([message(8), message(9)]);
    expect(results).toEqual([
      { ok: false, error: "QueueDoesNotExist: The specified queue does not exist." },
      { ok: false, error: "QueueDoesNotExist: The specified queue does not exist." },
    ]);
  });

  it("reports a bad queue URL and a bad endpoint together, without building a client", () => {
    let caught: unknown;
    try {
      parseRetryQueueSettings({ PURGE_RETRY_QUEUE_URL: "ftp://queue", SQS_ENDPOINT: "::", AWS_REGION: "" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PurgeConfigError);
    expect((caught as PurgeConfigError).problems).toEqual([
      'PURGE_RETRY_QUEUE_URL: "ftp://queue" is not an http(s) URL',
      'SQS_ENDPOINT: "::" is not a URL',
    ]);
    expect(parseRetryQueueSettings({ PURGE_RETRY_QUEUE_URL: "", SQS_ENDPOINT: "" })).toBeUndefined();
    expect(
      parseRetryQueueSettings({ PURGE_RETRY_QUEUE_URL: "https://queue.example/q", AWS_REGION: "eu-north-1" }),
    ).toEqual({ queueUrl: "https://queue.example/q", sqsEndpoint: undefined, region: "eu-north-1" });
  });

  it("is configured by PURGE_RETRY_QUEUE_URL (and SQS_ENDPOINT), and absent without it", async () => {
    expect(retryQueueFromEnv({})).toBeUndefined();
    expect(() => parseRetryQueueSettings({ PURGE_RETRY_QUEUE_URL: "not a url" })).toThrow(
      /PURGE_RETRY_QUEUE_URL/,
    );
    const deployed = parseRetryQueueSettings({
      PURGE_RETRY_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/purge-retry",
    });
    const deployedClient = deployed && createSqsClient(deployed);
    expect(await deployedClient?.config.region()).toBe("eu-west-1");
    deployedClient?.destroy();
    const local = retryQueueFromEnv({
      PURGE_RETRY_QUEUE_URL: fake.queueUrl(RETRY_QUEUE),
      SQS_ENDPOINT: fake.url,
    });
    const [result] = (await local?.enqueue([message(10)])) ?? [];
    expect(result?.ok).toBe(true);
  });
});
