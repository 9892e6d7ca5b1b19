/**
 * The Lambda entry: a Function URL event (payload 2.0) through Hono's adapter to the webhook
 * app, with the real powertools Logger and Metrics: its stdout holds JSON log lines carrying
 * the invocation's request id and the delivery's webhook-id, and the EMF lines of its metrics.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { MarketplaceStore } from "../../../dev/origin/store";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../../../lambdas/shared/metrics";
import { emfLines, jsonLinesOf } from "../shared/stdout";

const CONTEXT = {
  awsRequestId: "req-webhook-1",
  functionName: "Webhook",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:Webhook",
  memoryLimitInMB: "512",
};

describe("event Lambda handler", () => {
  it("answers a signed Function URL event with 202, a bad signature 401, a wrong content type 415, a wrong method 405", async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    // The handler reads its settings from the environment at cold start; other test files
    // share this process (isolate: false), so the variables are put back afterwards.
    const saved = { ...process.env };
    onTestFinished(() => {
      process.env = saved;
    });
    Object.assign(process.env, {
      UPSTASH_REDIS_REST_URL: inject("bridgeUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
      WEBHOOK_SECRETS: secret,
      KEY_PREFIX: `handler-${randomUUID().slice(0, 8)}`,
    });
    const { handler } = await import("../../../lambdas/events/handler");
    const store = new MarketplaceStore();
    const gpuId = store.listGpus({ status: "available" })[0]?.gpuId ?? "";
    const { booking, gpu } = store.createBooking({ gpuId, userId: "user-1" });
    const payload = JSON.stringify({
      id: `evt-${randomUUID()}`,
      type: "booking.created",
      occurredAt: new Date().toISOString(),
      version: gpu.version,
      data: { booking, gpu },
    });
    const invoke = (signature: string, overrides: { contentType?: string; method?: string } = {}) => {
      const now = new Date();
      return handler(
        {
          version: "2.0",
          routeKey: "$default",
          rawPath: "/v1/events",
          rawQueryString: "",
          headers: {
            "content-type": overrides.contentType ?? "application/json",
            host: "abc.lambda-url.us-east-1.on.aws",
            "webhook-id": "msg_1",
            "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
            "webhook-signature": signature || new Webhook(secret).sign("msg_1", now, payload),
          },
          requestContext: {
            accountId: "anonymous",
            apiId: "abc",
            domainName: "abc.lambda-url.us-east-1.on.aws",
            domainPrefix: "abc",
            http: {
              method: overrides.method ?? "POST",
              path: "/v1/events",
              protocol: "HTTP/1.1",
              sourceIp: "203.0.113.1",
              userAgent: "test",
            },
            requestId: randomUUID(),
            routeKey: "$default",
            stage: "$default",
            time: now.toISOString(),
            timeEpoch: now.getTime(),
          },
          body: payload,
          isBase64Encoded: false,
        } as never,
        CONTEXT as never,
      );
    };
    const { result, lines } = await jsonLinesOf(() => invoke(""));
    const accepted = result as { statusCode: number; body: string };
    expect(accepted.statusCode).toBe(202);
    expect(JSON.parse(accepted.body).results[0].status).toBe("applied");

    // The delivery's lines: JSON, with the request id and the (verified) webhook-id.
    const delivery = lines.find((line) => line.message === "webhook delivery");
    expect(delivery).toMatchObject({
      level: "INFO",
      service: "gpu-edge-cache-webhook",
      function_request_id: "req-webhook-1",
      webhookId: "msg_1",
      status: 202,
      applied: 1,
    });
    expect(lines.find((line) => line.message === "event")).toMatchObject({
      webhookId: "msg_1",
      type: "booking.created",
      status: "applied",
    });
    // Its metrics, flushed at the end of the invocation as EMF.
    const emf = emfLines(lines);
    const applied = emf.find((line) => "EventsApplied" in line);
    expect(applied).toMatchObject({ service: METRICS_SERVICE, type: "booking.created", EventsApplied: 1 });
    expect(applied?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [["service", "type"]],
      Metrics: [{ Name: "EventsApplied", Unit: "Count" }],
    });
    expect(emf.find((line) => "RedisStepLatency" in line)?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ["service"],
    ]);
    // No payload in any line: the booking's user appears in the body only.
    expect(JSON.stringify(lines)).not.toContain(booking.userId);
    const refused = (await invoke("v1,AAAA")) as { statusCode: number };
    expect(refused.statusCode).toBe(401);
    // Through the adapter too: a signed body that is not JSON is 415, a wrong method 405.
    const notJson = (await invoke("", { contentType: "text/plain" })) as { statusCode: number };
    expect(notJson.statusCode).toBe(415);
    const wrongMethod = (await invoke("", { method: "PUT" })) as {
      statusCode: number;
      headers: Record<string, string>;
    };
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
  });
});
