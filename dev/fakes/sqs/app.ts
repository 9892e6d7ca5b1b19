/**
 * The fake's HTTP face: `POST /` in the AWS JSON 1.0 envelope (`X-Amz-Target:
 * AmazonSQS.<Action>`, `Content-Type: application/x-amz-json-1.0`, a SigV4
 * Authorization header), errors as `{"__type", "message"}` plus the `x-amzn-query-error`
 * header the SDK maps to its error classes; and `GET /_fake/queues`, every queue and its
 * messages, for people.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { SqsAction, SqsInput } from "./actions";
import type { SqsAddresses } from "./addresses";
import type { SqsQueues } from "./queue-model";
import { SqsFakeError } from "./sqs-error";

export const SQS_JSON_CONTENT_TYPE = "application/x-amz-json-1.0";

export interface RecordedSqsRequest {
  readonly action: string;
  readonly status: number;
  /** The queue's name, when the request named an existing one. */
  readonly queue?: string;
  /** The error code, for a failed request. */
  readonly code?: string;
  /** The request body as the SDK sent it (JSON). */
  readonly input: Readonly<Record<string, unknown>>;
}

export interface SqsFakeAppContext {
  readonly queues: SqsQueues;
  readonly addresses: SqsAddresses;
  readonly actions: Readonly<Record<string, SqsAction>>;
  /** Every SQS request is appended, with its answer. */
  readonly requests: RecordedSqsRequest[];
}

/** The action's input, once the envelope is one the SDK would send. */
async function readEnvelope(
  request: { header(name: string): string | undefined; text(): Promise<string> },
  actions: Readonly<Record<string, SqsAction>>,
  target: string,
  action: string,
): Promise<{ handler: SqsAction; input: SqsInput }> {
  if (!(request.header("content-type") ?? "").startsWith(SQS_JSON_CONTENT_TYPE))
    throw new SqsFakeError(
      400,
      "UnsupportedProtocol",
      `The SQS fake speaks only the AWS JSON 1.0 protocol (Content-Type: ${SQS_JSON_CONTENT_TYPE}).`,
    );
  if (!/^AWS4-HMAC-SHA256 Credential=\S+/.test(request.header("authorization") ?? ""))
    throw new SqsFakeError(
      403,
      "MissingAuthenticationToken",
      "Missing or invalid AWS4-HMAC-SHA256 Authorization header.",
    );
  const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
  if (!target.startsWith("AmazonSQS.") || !handler)
    throw new SqsFakeError(
      400,
      "UnknownOperationException",
      `The SQS fake does not implement ${target || "(no X-Amz-Target)"}.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(await request.text());
  } catch (error) {
    throw new SqsFakeError(
      400,
      "SerializationException",
      "The request body is not a JSON object.",
      undefined,
      {
        cause: error,
      },
    );
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new SqsFakeError(400, "SerializationException", "The request body is not a JSON object.");
  return { handler, input: parsed as SqsInput };
}

export function createSqsFakeApp(context: SqsFakeAppContext): Hono {
  const { queues, addresses, actions, requests } = context;
  const app = new Hono();

  app.get("/_fake/queues", (c) => {
    const at = queues.now();
    return c.json(
      queues.all().map((queue) => ({
        name: queue.name,
        url: addresses.url(queue.name),
        arn: addresses.arn(queue.name),
        ...(queue.redrivePolicy ? { redrivePolicy: queue.redrivePolicy } : {}),
        messages: queue.messages.map((message) => ({
          ...queues.view(message, at),
          sentAt: new Date(message.sentAt).toISOString(),
          visibleAt: new Date(message.visibleAt).toISOString(),
        })),
      })),
    );
  });

  app.post("*", async (c) => {
    const requestId = randomUUID();
    const target = c.req.header("x-amz-target") ?? "";
    const action = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target;
    // Recorded as far as it was read: `{}` for a request refused before its body was parsed.
    let input: SqsInput = {};
    const answer = (
      status: number,
      body: unknown,
      recorded: { queue?: string; code?: string } = {},
      headers: Record<string, string> = {},
    ) => {
      requests.push({ action, status, input, ...recorded });
      return new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": SQS_JSON_CONTENT_TYPE, "x-amzn-RequestId": requestId, ...headers },
      });
    };
    const fail = (error: SqsFakeError) =>
      answer(
        error.status,
        { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
        { code: error.type },
        { "x-amzn-query-error": `${error.queryCode};Sender` },
      );

    try {
      const envelope = await readEnvelope(c.req, actions, target, action);
      input = envelope.input;
      const { queue, output } = envelope.handler(input);
      return answer(200, output, queue ? { queue } : {});
    } catch (error) {
      if (error instanceof SqsFakeError) return fail(error);
      return fail(
        new SqsFakeError(500, "InternalError", `fake failure: ${String(error)}`, undefined, { cause: error }),
      );
    }
  });

  return app;
}
