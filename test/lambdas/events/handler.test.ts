/** The Lambda entry: a Function URL event (payload 2.0) through Hono's adapter to the webhook app. */
import { randomBytes, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { MarketplaceStore } from "../../../dev/origin/store";

describe("event Lambda handler", () => {
  it("answers a signed Function URL event with 202, and a bad signature with 401", async () => {
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
    const invoke = (signature: string) => {
      const now = new Date();
      return handler(
        {
          version: "2.0",
          routeKey: "$default",
          rawPath: "/v1/events",
          rawQueryString: "",
          headers: {
            "content-type": "application/json",
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
              method: "POST",
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
        {} as never,
      );
    };
    const accepted = (await invoke("")) as { statusCode: number; body: string };
    expect(accepted.statusCode).toBe(202);
    expect(JSON.parse(accepted.body).results[0].status).toBe("applied");
    const refused = (await invoke("v1,AAAA")) as { statusCode: number };
    expect(refused.statusCode).toBe(401);
  });
});
