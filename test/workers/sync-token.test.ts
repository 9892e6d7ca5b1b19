/**
 * `X-Sync-Token` at the Worker (docs/read-your-own-writes.md), inside workerd: two edge apps (two
 * isolates' engines) on one key prefix with a long L1_SYNC_INTERVAL_MS, so without the token each
 * would answer the old body from L1; with it each syncs past the event's log entry first. Bad
 * tokens are 400s that change nothing; shareable answers carry `Vary: X-Sync-Token`.
 * The event app's own 202 and two workerd processes: test/dev/local/read-your-own-writes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { SYNC_TOKEN_CLOCK_SKEW_MS } from "../../core/cache/log-sync";
import { compareStreamIds } from "../../core/invalidation-log";
import {
  keysUnder,
  lambdaWrite,
  ManualClock,
  makeTestApp,
  parseServerTiming,
  TestOrigin,
  uniquePrefix,
} from "./support";

const LONG_INTERVAL = { L1_SYNC_INTERVAL_MS: "600000" };

/** An origin answering `/v1/gpus/:id` with the body a test sets, cacheable by the Worker. */
function gpuOrigin(initial: unknown) {
  const origin = new TestOrigin();
  let body = JSON.stringify(initial);
  origin.handler = () =>
    new Response(body, {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": "public, max-age=30",
        "X-Origin-Version": "1",
      },
    });
  return {
    origin,
    set(next: unknown) {
      body = JSON.stringify(next);
    },
  };
}

async function read(app: ReturnType<typeof makeTestApp>, path: string, headers: Record<string, string> = {}) {
  const response = await app.get(path, headers);
  return {
    status: response.status,
    headers: response.headers,
    body: await response.text(),
    tiers: parseServerTiming(response.headers.get("Server-Timing")).map((item) => item.name),
  };
}

describe("X-Sync-Token", () => {
  it("makes each isolate show the change at once; without it L1 still answers the old body", async () => {
    const keyPrefix = uniquePrefix();
    const gpuId = "gpu-sync-token-1";
    const path = `/v1/gpus/${gpuId}`;
    const { origin } = gpuOrigin({ gpuId, status: "available" });
    // Wall time: the token's milliseconds are Redis's clock.
    const clock = new ManualClock(Date.now());
    const isolates = [0, 1].map(() =>
      makeTestApp({ keyPrefix, origin, clock, bindingOverrides: LONG_INTERVAL }),
    );
    for (const app of isolates) {
      expect((await read(app, path)).status).toBe(200);
      expect((await read(app, path)).headers.get("X-Cache")).toBe("L1");
    }
    const oldBody = (await read(isolates[0] as ReturnType<typeof makeTestApp>, path)).body;
    expect(JSON.parse(oldBody)).toMatchObject({ status: "available" });

    // The event Lambda's step: the new record written through, then its log entry.
    const keys = isolates[0]?.keys;
    if (!keys) throw new Error("no app");
    const newBody = JSON.stringify({ gpuId, status: "busy" });
    const token = await lambdaWrite(keys, keys.gpu(gpuId), {
      version: 2,
      body: newBody,
      tags: [`gpu:${gpuId}`],
      storedAt: Date.now(),
    });
    clock.advance(Math.max(0, Date.now() - clock.now()));

    for (const app of isolates) {
      const before = app.cache.stats.redisCommands;
      // Within the interval and without the token: L1, as before, and no Redis command.
      const plain = await read(app, path);
      expect(plain.body).toBe(oldBody);
      expect(plain.headers.get("X-Cache")).toBe("L1");
      expect(plain.headers.has("X-Sync-Cursor")).toBe(false);
      expect(app.cache.stats.redisCommands).toBe(before);

      const synced = await read(app, path, { "X-Sync-Token": token });
      expect(synced.body).toBe(newBody);
      // The forced sync re-read the dropped copy's record: L1, already the new body.
      expect(synced.headers.get("X-Cache")).toBe("L1");
      expect(synced.tiers[0]).toBe("sync");
      expect(compareStreamIds(synced.headers.get("X-Sync-Cursor") ?? "0-0", token)).toBeGreaterThanOrEqual(0);

      // At the cursor now: the same token costs nothing more.
      const syncs = app.cache.stats.syncs;
      const again = await read(app, path, { "X-Sync-Token": token });
      expect(again.body).toBe(newBody);
      expect(again.headers.get("X-Cache")).toBe("L1");
      expect(again.tiers).not.toContain("sync");
      expect(app.cache.stats.syncs).toBe(syncs);
    }
  });

  it("shareable answers carry Vary: X-Sync-Token, their 304s too; the caching headers are otherwise the same", async () => {
    const app = makeTestApp({
      clock: new ManualClock(Date.now()),
      origin: gpuOrigin({ gpuId: "gpu-sync-vary" }).origin,
    });
    const path = "/v1/gpus/gpu-sync-vary";
    const first = await read(app, path);
    expect(first.headers.get("Vary")).toBe("X-Sync-Token");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=30, s-maxage=1, stale-if-error=600");
    expect(first.headers.get("CDN-Cache-Control")).toBe("public, max-age=1, stale-if-error=600");
    const notModified = await app.get(path, { "If-None-Match": first.headers.get("ETag") ?? "" });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("Vary")).toBe("X-Sync-Token");
  });

  it.for<[string, string, string]>([
    ["not a log position", "latest", "X-Sync-Token: not a log position (<ms>-<seq>, digits only)"],
    ["two values", "1-0, 2-0", "X-Sync-Token: more than one value"],
    ["too long", `${"9".repeat(21)}-${"9".repeat(21)}`, "X-Sync-Token: longer than 41 characters"],
    [
      "from the future",
      `${Date.now() + SYNC_TOKEN_CLOCK_SKEW_MS + 60_000}-0`,
      "X-Sync-Token: from the future",
    ],
  ])("a token %s is a 400 with the reason, and changes nothing", async ([, token, reason]) => {
    const app = makeTestApp({ clock: new ManualClock(Date.now()) });
    const response = await app.get("/v1/gpus/gpu-sync-bad", { "X-Sync-Token": token });
    expect(response.status).toBe(400);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Cache")).toBe("BYPASS");
    expect(((await response.json()) as { error: string }).error).toBe(reason);
    expect(app.origin.count()).toBe(0);
    expect(app.cache.stats.redisCommands).toBe(0);
    expect(app.cache.l1Usage.entries).toBe(0);
    expect(await keysUnder(app.keys)).toEqual([]);
  });

  it("the same token sent twice as separate fields is refused as two values", async () => {
    const app = makeTestApp({ clock: new ManualClock(Date.now()) });
    const headers = new Headers();
    headers.append("X-Sync-Token", "1-0");
    headers.append("X-Sync-Token", "1-0");
    const response = await app.request("/v1/gpus/gpu-sync-bad", { headers });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("X-Sync-Token: more than one value");
  });
});
