/**
 * The small pure pieces both writers and readers rely on: the invalidation-log entry
 * codec and stream-id order (core/invalidation-log.ts), the L2 record codec
 * (core/read-model.ts), the tags a GPU change names (core/tags.ts), keyspace rules
 * (core/keys.ts) and the timeout helper (core/time/clock.ts).
 */
import { describe, expect, it } from "vitest";
import { compareStreamIds, decodeLogEntry, encodeLogFields } from "../../core/invalidation-log";
import { createKeyspace } from "../../core/keys";
import { decodeL2Record, encodeL2Record, type L2Record } from "../../core/read-model";
import { listingTagsFor, tagsForGpuChange } from "../../core/tags";
import { systemTimers, TimeoutError, withTimeout } from "../../core/time/clock";

describe("invalidation-log entries", () => {
  it("decodes the fields the Lambda encodes", () => {
    const fields = encodeLogFields({ tags: ["gpu:g1", "gpus:*:*"], eventId: "evt-9", at: 1_234 });
    expect(fields).toEqual({ tags: "gpu:g1 gpus:*:*", event: "evt-9", at: "1234" });
    const flat = Object.entries(fields).flat();
    expect(decodeLogEntry("5-1", flat)).toEqual({
      id: "5-1",
      tags: ["gpu:g1", "gpus:*:*"],
      eventId: "evt-9",
      at: 1_234,
      records: [],
    });
  });

  it("tolerates missing fields, field order and a dangling name", () => {
    expect(decodeLogEntry("1-0", [])).toEqual({ id: "1-0", tags: [], eventId: "", at: 0, records: [] });
    expect(decodeLogEntry("1-0", ["at", "7", "tags", "", "event", "manual:x", "dangling"])).toEqual({
      id: "1-0",
      tags: [],
      eventId: "manual:x",
      at: 7,
      records: [],
    });
    expect(decodeLogEntry("1-0", ["tags", "a"]).tags).toEqual(["a"]);
  });
});

describe("compareStreamIds", () => {
  it("orders ids numerically by milliseconds, then sequence", () => {
    expect(compareStreamIds("1-10", "1-9")).toBeGreaterThan(0);
    expect(compareStreamIds("9-99", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("1795319389798-0", "1795319389798-0")).toBe(0);
    expect(compareStreamIds("0-0", "1-0")).toBeLessThan(0);
    expect(compareStreamIds("1795319389798-1", "1795319389798-0")).toBeGreaterThan(0);
    expect(compareStreamIds("1795319389799-0", "1795319389798-5")).toBeGreaterThan(0);
  });

  it("sorts a shuffled list into stream order", () => {
    const ids = ["10-0", "2-3", "2-10", "100-0", "2-2", "0-1"];
    expect([...ids].sort(compareStreamIds)).toEqual(["0-1", "2-2", "2-3", "2-10", "10-0", "100-0"]);
  });
});

describe("L2 records", () => {
  const record: L2Record = {
    version: 12,
    body: '{"gpuId":"g1","note":"日本 🚀 \\n","price":1.50}',
    tags: ["gpu:g1", "gpus:us-east:*"],
    storedAt: 1_795_319_389_798,
  };

  it("round-trips through the hash encoding", () => {
    const fields = encodeL2Record(record);
    expect(fields).toEqual({
      v: "12",
      b: record.body,
      t: "gpu:g1 gpus:us-east:*",
      s: "1795319389798",
      e: "",
    });
    // With its ETag, the record keeps it; without (above), a reader computes one.
    const withEtag = { ...record, etag: '"0123abcd"' };
    expect(decodeL2Record(encodeL2Record(withEtag))).toEqual(withEtag);
    expect(decodeL2Record(fields)).toEqual(record);
    expect(decodeL2Record(encodeL2Record({ ...record, tags: [], body: "" }))).toEqual({
      ...record,
      tags: [],
      body: "",
    });
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["no body", { v: "1", t: "", s: "1" }],
    ["a non-string body", { v: "1", b: 5, t: "", s: "1" }],
    ["a non-numeric version", { v: "x", b: "{}", t: "", s: "1" }],
    ["no version", { b: "{}", t: "", s: "1" }],
    ["no storedAt", { v: "1", b: "{}", t: "" }],
    ["an infinite storedAt", { v: "1", b: "{}", t: "", s: "Infinity" }],
  ])("decodes %s to undefined (a miss, never served)", (_label, fields) => {
    expect(decodeL2Record(fields as Record<string, unknown> | null | undefined)).toBeUndefined();
  });
});

describe("tags", () => {
  it("a GPU change names the GPU, its four listings and its four stats views", () => {
    expect(tagsForGpuChange({ gpuId: "g1", region: "us-east", gpuType: "RTX-4090" })).toEqual([
      "gpu:g1",
      "gpus:us-east:RTX-4090",
      "gpus:us-east:*",
      "gpus:*:RTX-4090",
      "gpus:*:*",
      "stats:us-east:RTX-4090",
      "stats-list:us-east:*",
      "stats-list:*:RTX-4090",
      "stats-list:*:*",
    ]);
  });

  it("names every listing a route can cache for that GPU", () => {
    const named = new Set(tagsForGpuChange({ gpuId: "g1", region: "us-east", gpuType: "RTX-4090" }));
    for (const tag of listingTagsFor("us-east", "RTX-4090")) expect(named.has(tag)).toBe(true);
  });
});

describe("keyspace", () => {
  it("builds every key under prefix and schema version", () => {
    const keys = createKeyspace("edge-1");
    expect(keys.root).toBe("edge-1:v1:");
    expect([
      keys.gpu("g"),
      keys.invalidationLog,
      keys.tagIndex("gpu:g"),
      keys.tagVersion("gpus:*:H100"),
      keys.response("/v1/gpus"),
    ]).toEqual([
      "edge-1:v1:gpu:g",
      "edge-1:v1:log",
      "edge-1:v1:tagidx:gpu:g",
      "edge-1:v1:tagver:gpus:*:H100",
      "edge-1:v1:resp:/v1/gpus",
    ]);
    expect(createKeyspace().root).toBe("ec:v1:");
  });

  it.each(["", "-x", "a:b", "a b", "ä"])("refuses the prefix %j", (prefix) => {
    expect(() => createKeyspace(prefix)).toThrow(TypeError);
  });
});

describe("withTimeout", () => {
  it("passes a value or an error through when the work settles in time", async () => {
    await expect(withTimeout(Promise.resolve(7), 50, systemTimers, "x")).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 50, systemTimers, "x")).rejects.toThrow(
      "boom",
    );
  });

  it("rejects with TimeoutError naming the work after the limit", async () => {
    const error = await withTimeout(new Promise(() => {}), 20, systemTimers, "Redis read").catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe("Redis read took longer than 20 ms");
  });
});
