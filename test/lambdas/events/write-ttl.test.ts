/**
 * The event Lambda's write-through TTLs follow CACHE_POLICIES, as the Worker's fills do
 * (one reader: core/config/cache-policies.ts). Against a real redis-server through the
 * bridge: the app built from its parsed configuration (lambdas/events/build.ts) and the
 * real Redis step (lambdas/events/apply.ts), read back with PTTL.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { DataClassName } from "../../../core/data-classes";
import { createKeyspace } from "../../../core/keys";
import type { PurgeDispatcher } from "../../../lambdas/events/app";
import { createEventApplier } from "../../../lambdas/events/apply";
import { buildEventsApp } from "../../../lambdas/events/build";
import { parseEventsConfig } from "../../../lambdas/events/config";
import {
  EventFactory,
  parsed,
  type RawEvent,
  uniquePrefix,
  upstashClient,
} from "../../support/event-fixtures";
import { LambdaSide } from "../../support/redis";

const lambda = new LambdaSide();
afterAll(() => lambda.close());

const HOUR_MS = 3_600_000;
/** PTTL counts down from the moment of the write; a test run takes far less than this. */
const SLACK_MS = 60_000;

const silent = { info: () => {}, warn: () => {}, error: () => {} };
/** Settles every event at once: these tests are about Redis, not purges. */
const noPurges: PurgeDispatcher = { dispatch: async (results) => ({ settled: results.map((r) => r.event) }) };

function lambdaEnv(label: string, cachePolicies?: unknown) {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const keyPrefix = uniquePrefix(`ttl-${label}`);
  return {
    secret,
    keys: createKeyspace(keyPrefix),
    env: {
      UPSTASH_REDIS_REST_URL: inject("bridgeUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
      WEBHOOK_SECRETS: secret,
      KEY_PREFIX: keyPrefix,
      ...(cachePolicies !== undefined ? { CACHE_POLICIES: JSON.stringify(cachePolicies) } : {}),
    },
  };
}

function signed(event: RawEvent, secret: string): Request {
  const payload = JSON.stringify(event);
  const id = `msg_${randomUUID()}`;
  const at = new Date();
  return new Request("http://events.test/v1/events", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, payload),
    },
    body: payload,
  });
}

async function pttl(key: string): Promise<number> {
  return lambda.redis.pttl(key);
}

function expectTtlAbout(ttlMs: number, expectedMs: number): void {
  expect(ttlMs).toBeLessThanOrEqual(expectedMs);
  expect(ttlMs).toBeGreaterThan(expectedMs - SLACK_MS);
}

describe("write-through TTLs", () => {
  it("a CACHE_POLICIES override changes the TTL of the GPU record the Lambda writes", async () => {
    const { env, keys, secret } = lambdaEnv("override", { gpu: { l2TtlSeconds: 120 } });
    const app = buildEventsApp(parseEventsConfig(env), { purges: noPurges, logger: silent });
    const { change, raw } = new EventFactory().gpuUpserted();
    const response = await app.request(signed(raw, secret));
    expect(response.status).toBe(202);
    expectTtlAbout(await pttl(keys.gpu(change.gpu.gpuId)), 120_000);
  });

  it("without CACHE_POLICIES the GPU record lives the gpu class's default hour", async () => {
    const { env, keys, secret } = lambdaEnv("default");
    const app = buildEventsApp(parseEventsConfig(env), { purges: noPurges, logger: silent });
    const { change, raw } = new EventFactory().gpuUpserted();
    expect((await app.request(signed(raw, secret))).status).toBe(202);
    expectTtlAbout(await pttl(keys.gpu(change.gpu.gpuId)), HOUR_MS);
  });

  it("every written record takes its own data class's overridden TTL", async () => {
    const overrides: Partial<Record<DataClassName, { l2TtlSeconds: number }>> = {
      gpu: { l2TtlSeconds: 600 },
      pricing: { l2TtlSeconds: 601 },
      provider: { l2TtlSeconds: 602 },
      "market-stats": { l2TtlSeconds: 603 },
      "order-book": { l2TtlSeconds: 604 },
    };
    const { env, keys } = lambdaEnv("classes", overrides);
    const config = parseEventsConfig(env);
    const applier = createEventApplier(upstashClient(), keys, { now: () => Date.now() }, config.policies);
    const factory = new EventFactory();
    const events = [
      factory.pricingUpdated(0.25).raw,
      factory.providerStatusChanged("maintenance").raw,
      factory.marketStatsUpdated().raw,
      factory.orderBookUpdated().raw,
    ].map(parsed);
    const results = await applier.apply(events);
    expect(results.map((result) => result.status)).toEqual(["applied", "applied", "applied", "applied"]);
    // By the key's kind (core/keys.ts): each kind of record and its data class's override.
    const expectedSeconds: Readonly<Record<string, number>> = {
      gpu: 600,
      price: 601,
      provider: 602,
      stats: 603,
      orderbook: 604,
    };
    const seen = new Set<string>();
    for (const { plan } of results) {
      for (const write of plan.writes) {
        const kind = write.key.slice(keys.root.length).split(":")[0] ?? "";
        seen.add(kind);
        expectTtlAbout(await pttl(write.key), (expectedSeconds[kind] ?? Number.NaN) * 1000);
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(expectedSeconds).sort());
  });
});
