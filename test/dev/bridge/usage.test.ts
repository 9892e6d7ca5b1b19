/**
 * The bridge counts what its clients ask for the way Upstash bills it: a pipeline or a
 * transaction of N commands is N commands in one request. The benchmarks read these counts
 * as the Redis cost of each Worker, so they must be exact and must not count refused requests.
 */
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningBridge, startBridgeServer } from "../../../dev/bridge/server";

const TOKEN = "usage-token";
let bridge: RunningBridge;
let redis: Redis;

beforeAll(async () => {
  const redisUrl = inject("redisUrl");
  bridge = await startBridgeServer({ token: TOKEN, ...(redisUrl ? { redisUrl } : {}) });
  redis = new Redis({ url: bridge.url, token: TOKEN, enableAutoPipelining: false, enableTelemetry: false });
});

afterAll(async () => {
  await bridge.close();
});

describe("bridge usage", () => {
  it("counts one request and one command per single command", async () => {
    const before = { ...bridge.usage };
    await redis.set("usage:single", "1");
    await redis.get("usage:single");
    expect(bridge.usage.requests - before.requests).toBe(2);
    expect(bridge.usage.commands - before.commands).toBe(2);
  });

  it("counts a pipeline and a transaction as one request of N commands each", async () => {
    const before = { ...bridge.usage };
    await redis.pipeline().set("usage:p", "1").incr("usage:p").get("usage:p").exec();
    await redis.multi().set("usage:m", "1").get("usage:m").exec();
    expect(bridge.usage.requests - before.requests).toBe(2);
    expect(bridge.usage.commands - before.commands).toBe(5);
  });

  it("does not count requests it refuses", async () => {
    const before = { ...bridge.usage };
    const unauthorised = await fetch(bridge.url, { method: "POST", body: '["GET","x"]' });
    expect(unauthorised.status).toBe(401);
    const malformed = await fetch(`${bridge.url}/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: "not json",
    });
    expect(malformed.status).toBe(400);
    expect(bridge.usage).toEqual(before);
  });
});
