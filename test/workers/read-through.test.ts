/**
 * The tiers through the real Worker (`exports.default.fetch`, module-scope services):
 * ORIGIN → L1, the L2 fill as the event Lambda would find it, an event written by the
 * Lambda reaching the edge within the sync interval, and another isolate reading L2.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it, vi } from "vitest";
import { encodeLogFields } from "../../core/invalidation-log";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";
import { encodeL2Record } from "../../core/read-model";
import { tags, tagsForGpuChange } from "../../core/tags";
import {
  edgeGet,
  hashOf,
  lambdaWrite,
  makeTestApp,
  originCount,
  originText,
  parseServerTiming,
  redis,
  workerKeys,
} from "./support";

/** The default L1_SYNC_INTERVAL_MS of the Worker under test. */
const SYNC_INTERVAL_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Worker fills L2 in `waitUntil`, after the response: wait for the record to land. */
async function waitForFill(l2Key: string, body: string): Promise<Record<string, string>> {
  return vi.waitFor(
    async () => {
      const fields = await hashOf(l2Key);
      expect(fields.b).toBe(body);
      return fields;
    },
    { timeout: 5_000, interval: 20 },
  );
}

describe("tier flow", () => {
  it("a miss goes to the origin, the next read is an L1 hit, and Redis holds the fill as v, b, t, s", async () => {
    const path = "/v1/gpus/gpu-00101";
    const l2Key = workerKeys.gpu("gpu-00101");
    await redis.del(l2Key);
    const body = await originText(path);
    const { version } = JSON.parse(body) as { version: number };
    const asked = await originCount(path);

    const first = await edgeGet(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await first.text()).toBe(body);

    const second = await edgeGet(path);
    expect(second.headers.get("X-Cache")).toBe("L1");
    expect(await second.text()).toBe(body);
    expect(second.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(await originCount(path)).toBe(asked + 1);

    const fields = await waitForFill(l2Key, body);
    expect(Object.keys(fields).sort()).toEqual(["b", "e", "s", "t", "v"]);
    expect(fields).toEqual({
      v: String(version),
      b: body,
      t: tags.gpu("gpu-00101"),
      s: expect.stringMatching(/^\d{13}$/),
      // The validator the edge served, stored so an L2 hit does not hash the body again.
      e: first.headers.get("ETag"),
    });
    expect(Math.abs(Number(fields.s) - Date.now())).toBeLessThan(60_000);
    // The gpu class's L2 TTL (1 h) is the safety net.
    const ttl = await redis.pttl(l2Key);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it("an aggregate answer is stored under its normalised key and registered under its tag", async () => {
    const path = "/v1/orderbook/A100-80GB";
    const l2Key = workerKeys.response(path);
    const body = await originText(path);
    const first = await edgeGet(`${path}?utm_campaign=x`);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await first.text()).toBe(body);
    const fields = await waitForFill(l2Key, body);
    expect(fields.t).toBe(tags.orderBookList("A100-80GB"));
    expect(await redis.smembers(workerKeys.tagIndex(tags.orderBookList("A100-80GB")))).toContain(l2Key);
    // The order-book class's L2 TTL is one minute.
    const ttl = await redis.pttl(l2Key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("another isolate finds the fill in L2, with the same ETag", async () => {
    const path = "/v1/gpus/gpu-00103";
    const body = await originText(path);
    const first = await edgeGet(path);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    await waitForFill(workerKeys.gpu("gpu-00103"), body);

    // A second isolate: its own L1, the Worker's keyspace, an origin that must not be asked.
    const other = makeTestApp({ keyPrefix: DEFAULT_KEY_PREFIX });
    const fromL2 = await other.get(path);
    expect(fromL2.status).toBe(200);
    expect(fromL2.headers.get("X-Cache")).toBe("L2");
    expect(await fromL2.text()).toBe(body);
    expect(fromL2.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(parseServerTiming(fromL2.headers.get("Server-Timing")).map((item) => item.name)).toContain("l2");
    expect(other.origin.count()).toBe(0);
    // And it keeps it in its own L1 from then on.
    expect((await other.get(path)).headers.get("X-Cache")).toBe("L1");
  });

  it("a change written by the event Lambda (L2 record + log entry) is served once the sync interval has passed", async () => {
    const gpuId = "gpu-00102";
    const path = `/v1/gpus/${gpuId}`;
    const l2Key = workerKeys.gpu(gpuId);
    const body = await originText(path);
    const gpu = JSON.parse(body) as { version: number; status: string };

    expect((await edgeGet(path)).headers.get("X-Cache")).toBe("ORIGIN");
    const cached = await edgeGet(path);
    expect(cached.headers.get("X-Cache")).toBe("L1");
    await waitForFill(l2Key, body);

    const changed = JSON.stringify({
      ...gpu,
      status: gpu.status === "busy" ? "available" : "busy",
      version: gpu.version + 1,
    });
    await lambdaWrite(workerKeys, l2Key, {
      version: gpu.version + 1,
      body: changed,
      tags: [tags.gpu(gpuId)],
      storedAt: Date.now(),
    });

    // The one real wait of this suite: the Worker reads the log at most every 500 ms.
    await sleep(SYNC_INTERVAL_MS + 100);
    const after = await edgeGet(path);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(changed);
    // The sync dropped the copy in use and re-read its record in the same step: already in L1.
    expect(after.headers.get("X-Cache")).toBe("L1");
    expect(after.headers.get("ETag")).not.toBe(cached.headers.get("ETag"));
    expect(parseServerTiming(after.headers.get("Server-Timing")).map((item) => item.name)).toContain("sync");

    const again = await edgeGet(path);
    expect(again.headers.get("X-Cache")).toBe("L1");
    expect(await again.text()).toBe(changed);
  });

  it("with a manual clock: an event is not seen before L1_SYNC_INTERVAL_MS and is seen at it (app instance)", async () => {
    const app = makeTestApp();
    const gpuId = "gpu-00104";
    const path = `/v1/gpus/${gpuId}`;
    const first = await app.get(path);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    const body = await first.text();
    const gpu = JSON.parse(body) as { version: number };
    expect((await hashOf(app.keys.gpu(gpuId))).b).toBe(body);

    const changed = JSON.stringify({ ...gpu, status: "maintenance", version: gpu.version + 1 });
    await lambdaWrite(app.keys, app.keys.gpu(gpuId), {
      version: gpu.version + 1,
      body: changed,
      tags: [tags.gpu(gpuId)],
      storedAt: Date.now(),
    });

    app.clock.advance(SYNC_INTERVAL_MS - 1);
    const before = await app.get(path);
    expect(before.headers.get("X-Cache")).toBe("L1");
    expect(await before.text()).toBe(body);

    app.clock.advance(1);
    const at = await app.get(path);
    expect(at.headers.get("X-Cache")).toBe("L1");
    expect(await at.text()).toBe(changed);
    expect(parseServerTiming(at.headers.get("Server-Timing")).map((item) => item.name)).toEqual(
      expect.arrayContaining(["sync", "l1"]),
    );
    expect(app.origin.count()).toBe(1);
  });

  it("a booking event's tags (tagsForGpuChange) evict the listings and stats that show the GPU", async () => {
    const app = makeTestApp();
    const gpu = JSON.parse(await originText("/v1/gpus/gpu-00105")) as {
      gpuId: string;
      region: string;
      gpuType: string;
    };
    const statsPath = `/v1/market/stats?region=${gpu.region}&type=${gpu.gpuType}`;
    const aggregates = [
      `/v1/gpus?region=${gpu.region}&type=${gpu.gpuType}`,
      `/v1/gpus?region=${gpu.region}`,
      `/v1/gpus?type=${gpu.gpuType}&status=available`,
      "/v1/gpus?sort=price",
      `/v1/market/stats?region=${gpu.region}`,
      "/v1/market/stats",
    ];
    const unrelatedRegion = gpu.region === "eu-west" ? "us-west" : "eu-west";
    // The reference list first: every request naming a region reads it (and so fills L1 with it).
    const unrelated = ["/v1/regions", `/v1/gpus?region=${unrelatedRegion}&type=${gpu.gpuType}`];
    for (const path of [...unrelated, statsPath, ...aggregates]) {
      expect((await app.get(path)).headers.get("X-Cache"), path).toBe("ORIGIN");
    }

    // The Lambda's one step: the new stats record, the aggregate responses indexed under the
    // changed tags dropped, and a log entry naming the tags.
    const changedTags = tagsForGpuChange(gpu);
    const newStats = JSON.stringify({ region: gpu.region, gpuType: gpu.gpuType, recomputed: true });
    await redis.hset(
      app.keys.marketStats(gpu.region, gpu.gpuType),
      encodeL2Record({
        version: 1_000_000,
        body: newStats,
        tags: [tags.marketStats(gpu.region, gpu.gpuType)],
        storedAt: Date.now(),
      }),
    );
    for (const tag of changedTags) {
      for (const key of (await redis.smembers(app.keys.tagIndex(tag))) as string[]) await redis.del(key);
    }
    await redis.xadd(app.keys.invalidationLog, "*", {
      ...encodeLogFields({ tags: changedTags, eventId: "evt-booking-1", at: Date.now() }),
    });

    app.clock.advance(SYNC_INTERVAL_MS);
    const asked = app.origin.count();
    const stats = await app.get(statsPath);
    // In use when the sync dropped it: re-read from its record within the sync.
    expect(stats.headers.get("X-Cache")).toBe("L1");
    expect(await stats.text()).toBe(newStats);
    for (const path of aggregates) expect((await app.get(path)).headers.get("X-Cache"), path).toBe("ORIGIN");
    for (const path of unrelated) expect((await app.get(path)).headers.get("X-Cache"), path).toBe("L1");
    expect(app.origin.count()).toBe(asked + aggregates.length);
  });
});
