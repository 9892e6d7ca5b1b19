/**
 * The Workers Cache purge path end to end, on the local stack with its two Varnish caches:
 * an operator's `cache.invalidate` for a long-lived class (reference data, kept 1 h at the
 * front) goes from the event app through the retry queue and the retry handler's planner
 * to the Worker's signed /_cache/purge, which purges the front cache by tag. Event-covered
 * classes (1 s at the front) are not purged at all: their copies expire before a purge
 * could arrive, and Workers Cache allows 5 purge calls a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverEvents, marketplaceEvent } from "../../../dev/local/marketplace-events";
import { DEFAULT_WEBHOOK_SECRET, type LocalStack, startLocalStack } from "../../../dev/local/stack";
import { varnishdForTests } from "../varnish/fixtures";

const varnishd = varnishdForTests("Workers Cache purge end to end");
/** Queue delay (1 s) + the local poller's interval (1 s) + the call, with room for a slow machine. */
const PURGE_ARRIVES_WITHIN_MS = 15_000;

async function cacheStatus(url: string): Promise<string | null> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.headers.get("cf-cache-status");
}

describe.skipIf(!varnishd)("Workers Cache purges through the local stack", () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      httpCaches: "varnish",
      ports: { edge: 0, origin: 0, redisRest: 0, events: 0 },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it("purges a reference answer from the front cache by tag, via the queue and the signed endpoint", async () => {
    const regions = `${stack.urls.edge}/v1/regions`;
    expect(await cacheStatus(regions)).toBe("MISS");
    expect(await cacheStatus(regions)).toBe("HIT");

    const delivery = await deliverEvents(stack.urls.events, DEFAULT_WEBHOOK_SECRET, [
      marketplaceEvent("cache.invalidate", 0, { tags: ["ref:regions"], paths: [], keys: [] }),
    ]);
    expect(delivery.status).toBe(202);

    // The copy is kept for an hour: only the purge can make the front ask the Worker again.
    const started = Date.now();
    let status = await cacheStatus(regions);
    while (status === "HIT" && Date.now() - started < PURGE_ARRIVES_WITHIN_MS) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await cacheStatus(regions);
    }
    expect(status).not.toBe("HIT");
    expect(await cacheStatus(regions)).toBe("HIT");
  }, 40_000);
});
