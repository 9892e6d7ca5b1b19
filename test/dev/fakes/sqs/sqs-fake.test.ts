/**
 * The SQS fake through the real `@aws-sdk/client-sqs`: the MD5s the SDK checks, the
 * visibility timeout on an injected clock, receipt handles, the redrive policy moving a
 * message to its DLQ, batch limits, errors as the SDK's own classes, and the JSON page.
 */
import { createHash } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  TooManyEntriesInBatchRequest,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsFake, startSqsFake } from "../../../../dev/fakes/sqs";
import { ManualClock } from "../../../support/manual-clock";
import { sqsClient } from "../../../support/sqs-client";

const clock = new ManualClock(Date.parse("2026-11-01T00:00:00Z"));
let fake: SqsFake;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  fake = await startSqsFake({
    queues: [
      {
        name: "work",
        visibilityTimeoutSeconds: 20,
        redrivePolicy: { deadLetterQueue: "work-dlq", maxReceiveCount: 2 },
      },
      { name: "work-dlq" },
      { name: "plain" },
    ],
    now: clock.now,
  });
  sqs = sqsClient(fake);
  queueUrl = fake.queueUrl("work");
});
afterAll(async () => {
  sqs.destroy();
  await fake.close();
});

/** Empties a queue through the fake's own view (each test starts clean). */
async function drain(name: string) {
  for (const message of fake.messages(name)) clock.set(Math.max(clock.now(), message.visibleAt));
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: fake.queueUrl(name),
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    if (Messages.length === 0) return;
    for (const message of Messages)
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: fake.queueUrl(name), ReceiptHandle: message.ReceiptHandle }),
      );
  }
}

const receive = (url = queueUrl, extra: { VisibilityTimeout?: number } = {}) =>
  sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      ...extra,
    }),
  );

describe("SQS fake", () => {
  it("answers SendMessage and ReceiveMessage with the hex MD5 of the UTF-8 body, as the SDK checks", async () => {
    await drain("plain");
    const body = '{"tags":["gpu:ünïcode ☃ 🚀"]}';
    const expected = createHash("md5").update(body).digest("hex");
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: body }),
    );
    expect(sent.MD5OfMessageBody).toBe(expected);
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: fake.queueUrl("plain"),
        Entries: [{ Id: "a", MessageBody: `${body}!` }],
      }),
    );
    expect(batch.Successful?.[0]?.MD5OfMessageBody).toBe(createHash("md5").update(`${body}!`).digest("hex"));
    const { Messages = [] } = await receive(fake.queueUrl("plain"));
    expect(Messages.map((message) => [message.Body, message.MD5OfBody])).toEqual([
      [body, expected],
      [`${body}!`, createHash("md5").update(`${body}!`).digest("hex")],
    ]);
    expect(fake.messages("plain")[0]?.md5OfBody).toBe(expected);
  });

  it("a wrong MD5 makes the SDK reject SendMessage and ReceiveMessage (so the fake's must be right)", async () => {
    const tampering = sqsClient(fake);
    // Runs below the SDK's MD5 check (initialize step), as a server sending a wrong digest would.
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const output = result.output as {
          MD5OfMessageBody?: string;
          Messages?: Array<{ MD5OfBody?: string }>;
        };
        if (output.MD5OfMessageBody) output.MD5OfMessageBody = "0".repeat(32);
        for (const message of output.Messages ?? []) message.MD5OfBody = "0".repeat(32);
        return result;
      },
      { step: "build", name: "tamperMd5" },
    );
    await expect(
      tampering.send(new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: "x" })),
    ).rejects.toThrow("InvalidChecksumError");
    await expect(
      tampering.send(new ReceiveMessageCommand({ QueueUrl: fake.queueUrl("plain"), VisibilityTimeout: 0 })),
    ).rejects.toThrow(/Invalid MD5 checksum on messages/);
    tampering.destroy();
    await drain("plain");
  });

  it("hides a received message for its visibility timeout on the injected clock and counts receives", async () => {
    await drain("plain");
    await sqs.send(new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: "one" }));
    const first = await receive(fake.queueUrl("plain"), { VisibilityTimeout: 10 });
    expect(first.Messages?.[0]?.Attributes).toEqual({ ApproximateReceiveCount: "1" });
    expect((await receive(fake.queueUrl("plain"))).Messages).toBeUndefined();
    expect(fake.messages("plain")[0]).toMatchObject({ state: "in-flight", visibleAt: clock.now() + 10_000 });
    clock.advance(9_999);
    expect((await receive(fake.queueUrl("plain"))).Messages).toBeUndefined();
    clock.advance(1);
    const second = await receive(fake.queueUrl("plain"));
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
    // Without AttributeNames / MessageSystemAttributeNames no attributes come back.
    clock.advance(30_000);
    const bare = await sqs.send(new ReceiveMessageCommand({ QueueUrl: fake.queueUrl("plain") }));
    expect(bare.Messages?.[0]?.Attributes).toBeUndefined();
    await drain("plain");
  });

  it("deletes with the latest receipt handle only; an older one succeeds and deletes nothing", async () => {
    await drain("plain");
    await sqs.send(new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: "del" }));
    const old = (await receive(fake.queueUrl("plain"), { VisibilityTimeout: 0 })).Messages?.[0]
      ?.ReceiptHandle;
    const latest = (await receive(fake.queueUrl("plain"), { VisibilityTimeout: 5 })).Messages?.[0]
      ?.ReceiptHandle;
    expect(old).not.toBe(latest);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: fake.queueUrl("plain"), ReceiptHandle: old }));
    expect(fake.messages("plain")).toHaveLength(1);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: fake.queueUrl("plain"), ReceiptHandle: latest }));
    expect(fake.messages("plain")).toHaveLength(0);
    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: fake.queueUrl("plain"), ReceiptHandle: "made-up" })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it("ChangeMessageVisibility moves an in-flight message's return; a visible one is not in flight", async () => {
    await drain("plain");
    await sqs.send(new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: "cmv" }));
    const handle = (await receive(fake.queueUrl("plain"), { VisibilityTimeout: 5 })).Messages?.[0]
      ?.ReceiptHandle;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: fake.queueUrl("plain"),
        ReceiptHandle: handle,
        VisibilityTimeout: 120,
      }),
    );
    expect(fake.messages("plain")[0]?.visibleAt).toBe(clock.now() + 120_000);
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: fake.queueUrl("plain"),
          ReceiptHandle: handle,
          VisibilityTimeout: 43_201,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    clock.advance(120_000);
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: fake.queueUrl("plain"),
          ReceiptHandle: handle,
          VisibilityTimeout: 1,
        }),
      ),
    ).rejects.toMatchObject({ name: "MessageNotInflight" });
    await drain("plain");
  });

  it("moves a message to the DLQ on the receive after maxReceiveCount receives", async () => {
    await drain("work");
    await drain("work-dlq");
    const { MessageId } = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "doomed" }),
    );
    for (const count of ["1", "2"]) {
      const { Messages } = await receive();
      expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe(count);
      clock.advance(20_000); // the queue's visibility timeout
    }
    const attributes = async (url: string) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))).Attributes;
    expect((await attributes(queueUrl))?.ApproximateNumberOfMessages).toBe("1");
    expect((await receive()).Messages).toBeUndefined();
    expect(fake.messages("work")).toEqual([]);
    expect(fake.messages("work-dlq")).toMatchObject([
      { messageId: MessageId, body: "doomed", deadLetterSourceQueue: "work", state: "visible" },
    ]);
    expect(await attributes(fake.queueUrl("work-dlq"))).toMatchObject({ ApproximateNumberOfMessages: "1" });
    expect(JSON.parse((await attributes(queueUrl))?.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:work-dlq",
      maxReceiveCount: 2,
    });
    await drain("work-dlq");
  });

  it("keeps SendMessageBatch's limits and reports entry failures on their own", async () => {
    await drain("plain");
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` }));
    await expect(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: fake.queueUrl("plain"), Entries: entries(11) })),
    ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: fake.queueUrl("plain"),
          Entries: [
            { Id: "same", MessageBody: "a" },
            { Id: "same", MessageBody: "b" },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: "BatchEntryIdsNotDistinct" });
    fake.failNextEntries(1);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: fake.queueUrl("plain"),
        Entries: [
          { Id: "bad", MessageBody: "nul \u0000 is not allowed" },
          { Id: "injected", MessageBody: "ok but injected" },
          { Id: "late", MessageBody: "later", DelaySeconds: 60 },
        ],
      }),
    );
    expect(result.Failed?.map((entry) => [entry.Id, entry.Code, entry.SenderFault])).toEqual([
      ["bad", "InvalidMessageContents", true],
      ["injected", "InternalError", false],
    ]);
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(["late"]);
    expect(fake.messages("plain")).toMatchObject([{ body: "later", state: "delayed" }]);
    const counts = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: fake.queueUrl("plain"),
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
      }),
    );
    expect(counts.Attributes).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesDelayed: "1",
    });
    clock.advance(60_000);
    expect(fake.messages("plain")[0]?.state).toBe("visible");
    await drain("plain");
  });

  it("answers unknown queues, unsigned and non-JSON-protocol requests as SQS would, and shows its queues", async () => {
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: `${fake.url}/000000000000/missing`, MessageBody: "x" })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: "work" }))).QueueUrl).toBe(queueUrl);
    const unsigned = await fetch(fake.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" },
      body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: "x" }),
    });
    expect(unsigned.status).toBe(403);
    const query = await fetch(fake.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: "AWS4-HMAC-SHA256 Credential=x",
      },
      body: "Action=SendMessage",
    });
    expect(query.status).toBe(400);
    expect(fake.requests.at(-1)).toMatchObject({ status: 400, code: "UnsupportedProtocol" });
    await sqs.send(new SendMessageCommand({ QueueUrl: fake.queueUrl("plain"), MessageBody: "shown" }));
    const page = (await (await fetch(`${fake.url}/_fake/queues`)).json()) as Array<{
      name: string;
      url: string;
      messages: Array<{ body: string; sentAt: string }>;
    }>;
    expect(page.map((queue) => queue.name)).toEqual(["work", "work-dlq", "plain"]);
    expect(page[2]?.url).toBe(fake.queueUrl("plain"));
    expect(page[2]?.messages.map((message) => message.body)).toEqual(["shown"]);
    expect(page[2]?.messages[0]?.sentAt).toBe(new Date(clock.now()).toISOString());
    expect(() => fake.queueUrl("missing")).toThrow(TypeError);
    await drain("plain");
  });
});
