/**
 * Per-isolate memory in bytes (core/cache/memory-usage.ts): long URLs are refused before any
 * lookup; the lookup memo, L1 and its tag index, negative entries, the tag history, pending
 * work and the reference lists are each held to a byte budget and counted in `/_cache/stats`.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { MAX_REQUEST_URL_LENGTH } from "../../workers/app";
import { edgeGet, makeTestApp } from "./support";

const OPERATOR_TOKEN = "operator-token-0123456789";
const ORIGIN = "http://edge.test";

interface Usage {
  entries: number;
  bytes: number;
  maxBytes: number;
}

interface MemoryStats {
  memory: {
    entries: Usage & { tagIndex: { tags: number; members: number; bytes: number } };
    negative: Usage & { ttlMs: number };
    tagHistory: Usage;
    loads: Usage & { refused: number };
    refreshes: Usage & { refused: number };
    lookupMemo: Usage;
    referenceLists: Usage;
    totalBytes: number;
  };
  l1: { entries: number; bytes: number };
}

/** A path whose full request URL (`http://edge.test` + path) is exactly `length` characters. */
function pathOfUrlLength(base: string, length: number): string {
  const padding = length - ORIGIN.length - base.length - "&junk=".length;
  return `${base}&junk=${"x".repeat(padding)}`;
}

describe("request URL length", () => {
  it(`a URL longer than ${MAX_REQUEST_URL_LENGTH} characters → 414 before any lookup; at the limit it is served`, async () => {
    const app = makeTestApp();
    const tooLong = pathOfUrlLength("/v1/gpus/gpu-00601?a=1", MAX_REQUEST_URL_LENGTH + 1);
    expect(ORIGIN.length + tooLong.length).toBe(MAX_REQUEST_URL_LENGTH + 1);
    const refused = await app.get(tooLong);
    expect(refused.status).toBe(414);
    expect(refused.headers.get("Cache-Control")).toBe("no-store");
    expect(refused.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await refused.json()).toEqual({
      error: `request URL longer than ${MAX_REQUEST_URL_LENGTH} characters`,
    });
    expect(app.origin.count()).toBe(0);
    expect(app.cache.stats.redisCommands).toBe(0);
    expect(app.services.lookups.usage.entries).toBe(0);

    const atLimit = await app.get(pathOfUrlLength("/v1/gpus/gpu-00601?a=1", MAX_REQUEST_URL_LENGTH));
    expect(atLimit.status).toBe(200);
  });

  it("the real Worker refuses one too, with credentials or without, on any path", async () => {
    for (const path of ["/v1/gpus?a=1", "/v1/bookings?a=1", "/nothing?a=1"]) {
      for (const headers of [{}, { Authorization: "Bearer t" }] as Array<Record<string, string>>) {
        const response = await edgeGet(pathOfUrlLength(path, MAX_REQUEST_URL_LENGTH + 100), headers);
        expect(response.status, path).toBe(414);
      }
    }
  });
});

describe("byte budgets", () => {
  it("1,000 distinct URLs of 4 KiB: the lookup memo stays within LOOKUP_MEMO_MAX_BYTES (a count bound let them all in)", async () => {
    const maxBytes = 256 * 1024;
    const app = makeTestApp({ bindingOverrides: { LOOKUP_MEMO_MAX_BYTES: String(maxBytes) } });
    for (let index = 0; index < 1_000; index += 1) {
      const path = pathOfUrlLength(`/v1/gpus/gpu-00602?n=${index}`, MAX_REQUEST_URL_LENGTH);
      expect((await app.get(path)).status).toBe(200);
    }
    const usage = app.services.lookups.usage;
    expect(usage.maxBytes).toBe(maxBytes);
    expect(usage.bytes).toBeLessThanOrEqual(maxBytes);
    // Each is counted at two bytes a character at least: no more than the budget over 8 KiB fit.
    expect(usage.entries).toBeLessThanOrEqual(Math.floor(maxBytes / (2 * MAX_REQUEST_URL_LENGTH)));
    expect(usage.entries).toBeGreaterThan(0);
    // All of them were one key: the origin was asked once.
    expect(app.origin.count()).toBe(1);
  });

  it("/_cache/stats reports entries and bytes of every structure against its budget, and their total", async () => {
    const app = makeTestApp({
      bindingOverrides: {
        OPERATOR_TOKEN,
        L1_MAX_BYTES: String(8 * 1024 * 1024),
        NEGATIVE_CACHE_MAX_BYTES: String(512 * 1024),
        LOOKUP_MEMO_MAX_BYTES: String(2 * 1024 * 1024),
        PENDING_WORK_MAX_BYTES: String(256 * 1024),
      },
    });
    expect((await app.get("/v1/gpus?region=us-east&type=RTX-4090&limit=3")).status).toBe(200);
    expect((await app.get("/v1/gpus/gpu-00603")).status).toBe(200);
    expect((await app.get("/v1/gpus/gpu-mem-missing")).status).toBe(404);

    const response = await app.get("/_cache/stats", { Authorization: `Bearer ${OPERATOR_TOKEN}` });
    expect(response.status).toBe(200);
    const { memory, l1 } = (await response.json()) as MemoryStats;
    expect(Object.keys(memory).sort()).toEqual([
      "entries",
      "loads",
      "lookupMemo",
      "negative",
      "referenceLists",
      "refreshes",
      "tagHistory",
      "totalBytes",
    ]);
    // The listing, the GPU and both reference lists.
    expect(memory.entries).toMatchObject({ entries: 4, maxBytes: 8 * 1024 * 1024 });
    expect(memory.entries.bytes).toBe(l1.bytes);
    expect(memory.entries.tagIndex).toMatchObject({ tags: 4, members: 4 });
    expect(memory.entries.tagIndex.bytes).toBeGreaterThan(0);
    expect(memory.negative).toMatchObject({ entries: 1, maxBytes: 512 * 1024, ttlMs: 5_000 });
    expect(memory.negative.bytes).toBeGreaterThan(2 * "/v1/gpus/gpu-mem-missing".length);
    expect(memory.tagHistory).toMatchObject({ entries: 0, bytes: 0, maxBytes: 1024 * 1024 });
    expect(memory.loads).toEqual({ entries: 0, bytes: 0, maxBytes: 256 * 1024, refused: 0 });
    expect(memory.refreshes).toEqual({ entries: 0, bytes: 0, maxBytes: 256 * 1024, refused: 0 });
    expect(memory.lookupMemo).toMatchObject({ entries: 3, maxBytes: 2 * 1024 * 1024 });
    // Four regions and six GPU types in the sample catalogue.
    expect(memory.referenceLists).toMatchObject({ entries: 10, maxBytes: 1024 * 1024 });
    for (const usage of [memory.lookupMemo, memory.referenceLists]) expect(usage.bytes).toBeGreaterThan(0);
    expect(memory.totalBytes).toBe(
      memory.entries.bytes +
        memory.negative.bytes +
        memory.tagHistory.bytes +
        memory.loads.bytes +
        memory.refreshes.bytes +
        memory.lookupMemo.bytes +
        memory.referenceLists.bytes,
    );
  });
});
