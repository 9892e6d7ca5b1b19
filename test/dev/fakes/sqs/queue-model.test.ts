/**
 * The SQS fake's queue model on its own: the queue definitions it refuses, and what a
 * receive, a stale receipt handle and the redrive policy do, on a manual clock.
 */
import { describe, expect, it } from "vitest";
import { SqsQueues } from "../../../../dev/fakes/sqs/queue-model";
import { SqsFakeError } from "../../../../dev/fakes/sqs/sqs-error";
import { ManualClock } from "../../../support/manual-clock";

describe("SQS fake queue model", () => {
  it("refuses bad names, a queue defined twice and a redrive policy that names no other queue", () => {
    expect(() => new SqsQueues([{ name: "has space" }], Date.now)).toThrow(TypeError);
    expect(() => new SqsQueues([{ name: "q" }, { name: "q" }], Date.now)).toThrow(/defined twice/);
    expect(
      () =>
        new SqsQueues(
          [{ name: "q", redrivePolicy: { deadLetterQueue: "missing", maxReceiveCount: 1 } }],
          Date.now,
        ),
    ).toThrow(/is not another queue/);
    expect(
      () =>
        new SqsQueues([{ name: "q", redrivePolicy: { deadLetterQueue: "q", maxReceiveCount: 1 } }], Date.now),
    ).toThrow(/is not another queue/);
    expect(
      () =>
        new SqsQueues(
          [{ name: "q", redrivePolicy: { deadLetterQueue: "dlq", maxReceiveCount: 0 } }, { name: "dlq" }],
          Date.now,
        ),
    ).toThrow(RangeError);
  });

  it("hides a received message, acts only on its latest handle, and redrives it after maxReceiveCount", () => {
    const clock = new ManualClock();
    const queues = new SqsQueues(
      [{ name: "q", redrivePolicy: { deadLetterQueue: "dlq", maxReceiveCount: 2 } }, { name: "dlq" }],
      clock.now,
    );
    const queue = queues.get("q");
    const dlq = queues.get("dlq");
    if (!queue || !dlq) throw new Error("queues missing");
    queues.send(queue, "body", 5);
    expect(queues.counts(queue)).toEqual({ visible: 0, delayed: 1, "in-flight": 0 });
    expect(queues.receive(queue, 10, 30)).toEqual([]);

    clock.advance(5_000);
    const [first] = queues.receive(queue, 10, 30);
    expect(queues.counts(queue)).toEqual({ visible: 0, delayed: 0, "in-flight": 1 });
    clock.advance(30_000);
    const [second] = queues.receive(queue, 10, 30);
    expect(second?.message.receiveCount).toBe(2);
    // The first handle is stale now: it cannot move the message's return.
    expect(() => queues.changeVisibility(queue, first?.receiptHandle, 0)).toThrow(
      expect.objectContaining({ type: "InvalidParameterValue" }),
    );
    expect(() => queues.delete(queue, "made-up")).toThrow(SqsFakeError);

    clock.advance(30_000);
    expect(queues.receive(queue, 10, 30)).toEqual([]);
    expect(queue.messages).toEqual([]);
    expect(dlq.messages.map((message) => queues.view(message, clock.now()))).toMatchObject([
      { body: "body", receiveCount: 2, deadLetterSourceQueue: "q", state: "visible" },
    ]);
    // The handle a redriven message had is gone with it.
    expect(() => queues.delete(queue, second?.receiptHandle)).toThrow(
      expect.objectContaining({ type: "ReceiptHandleIsInvalid" }),
    );
  });
});
