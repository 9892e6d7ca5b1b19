/**
 * The tiered-cache engine's read path (docs/architecture.md "The tiers"): miss → origin → L2 fill →
 * L1; fresh / stale-while-revalidate / stale-if-error windows on the manual clock;
 * single-flight; private answers kept out of every shared tier; tag indexes for
 * aggregates. Real Redis behind the real bridge; a fake origin for exact counts.
 */

import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { OriginUnavailableError } from "../../../core/cache/tiered-cache";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { strongEtag } from "../../../core/etag";
import { createKeyspace } from "../../../core/keys";
import { createHarness, gpuLookup, LambdaSide, listingLookup, readHash, uniquePrefix } from "./helpers";

const GPU_POLICY = DEFAULT_DATA_CLASS_POLICIES.gpu;
const lambda = new LambdaSide();
afterAll(() => lambda.close());

describe("tier flow", () => {
  it("misses to the origin, fills L2, then answers from L1 without Redis, and from L2 in a new isolate", async () => {
    const h = createHarness({ label: "flow" });
    const lookup = gpuLookup(h.keys, "gpu-flow-1");
    const body = h.origin.set(
      lookup.originPath,
      { gpuId: "gpu-flow-1", status: "available", version: 3 },
      {
        version: 3,
      },
    );

    const first = await h.cache.get(lookup, h.ctx);
    expect(first).toMatchObject({
      source: "ORIGIN",
      status: 200,
      body,
      shareable: true,
      tags: ["gpu:gpu-flow-1"],
    });
    expect(first.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(first.timings.map((timing) => timing.tier)).toEqual(["sync", "l1", "l2", "origin"]);
    expect(h.origin.count()).toBe(1);
    expect(h.store.calls.readLog).toBe(1);
    expect(h.store.calls.get).toBe(1);

    // The L2 fill runs after the answer, in waitUntil.
    expect(h.pending.length).toBe(1);
    await h.drain();
    expect(h.store.calls.fill).toBe(1);
    expect(await readHash(h.redis, lookup.l2Key)).toEqual({
      v: "3",
      b: body,
      t: "gpu:gpu-flow-1",
      s: String(h.clock.now()),
      e: await strongEtag(body),
    });
    const ttlMs = await h.redis.pttl(lookup.l2Key);
    expect(ttlMs).toBeGreaterThan(GPU_POLICY.l2TtlSeconds * 1000 - 60_000);
    expect(ttlMs).toBeLessThanOrEqual(GPU_POLICY.l2TtlSeconds * 1000);

    const commandsBefore = h.cache.stats.redisCommands;
    const second = await h.cache.get(lookup, h.ctx);
    expect(second).toMatchObject({ source: "L1", body, etag: first.etag });
    expect(second.timings.map((timing) => timing.tier)).toEqual(["l1"]);
    expect(h.origin.count()).toBe(1);
    expect(h.store.total).toBe(3);
    expect(h.cache.stats.redisCommands).toBe(commandsBefore);
    expect(h.cache.stats.hits).toEqual({ l1: 1, l2: 0, origin: 1 });

    const otherIsolate = h.newEngine();
    const third = await otherIsolate.get(lookup, h.ctx);
    expect(third).toMatchObject({ source: "L2", body, etag: first.etag, status: 200 });
    expect(h.origin.count()).toBe(1);
    expect(otherIsolate.stats.hits.l2).toBe(1);
    await h.drain();
    // An L2 hit fills L1 only: nothing is written back.
    expect(h.store.calls.fill).toBe(1);
    expect((await otherIsolate.get(lookup, h.ctx)).source).toBe("L1");
  });

  it("serves what the event Lambda wrote to L2 byte for byte, without asking the origin", async () => {
    const h = createHarness({ label: "lambda-record" });
    const lookup = gpuLookup(h.keys, "gpu-lambda-1");
    const body = '{"gpuId":"gpu-lambda-1","note":"日本語 🚀","pricePerHour":1.50}';
    await lambda.writeRecord(lookup.l2Key, { version: 9, body, tags: lookup.tags, storedAt: 42 });

    const answer = await h.cache.get(lookup, h.ctx);
    expect(answer).toMatchObject({ source: "L2", body, contentType: "application/json" });
    expect(h.origin.count()).toBe(0);
  });

  it("does not store an origin error answer (4xx) in any tier", async () => {
    const h = createHarness({ label: "not-found" });
    const lookup = gpuLookup(h.keys, "gpu-missing");
    h.origin.set(lookup.originPath, { error: "not found" }, { status: 404 });

    const first = await h.cache.get(lookup, h.ctx);
    expect(first).toMatchObject({ source: "ORIGIN", status: 404, shareable: false, etag: undefined });
    await h.drain();
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "ORIGIN", status: 404 });
    expect(h.origin.count()).toBe(2);
    await h.drain();
    expect(h.store.calls.fill).toBe(0);
    expect(await h.redis.exists(lookup.l2Key)).toBe(0);
  });

  it("reads the real origin: its body, ETag and X-Origin-Version land in L1 and L2", async () => {
    const originUrl = inject("originUrl");
    const h = createHarness({ label: "real-origin" });
    // Counted here, not through /_admin/counters: other test files share (and reset) those.
    const fetched: string[] = [];
    const cache = h.newEngine({
      fetchOrigin: (path, signal) => {
        fetched.push(path);
        return fetch(`${originUrl}${path}`, { signal });
      },
    });
    const lookup = gpuLookup(h.keys, "gpu-01777");
    const direct = await fetch(`${originUrl}${lookup.originPath}`);
    expect(direct.status).toBe(200);
    const directBody = await direct.text();
    const version = (JSON.parse(directBody) as { version: number }).version;
    expect(direct.headers.get("x-origin-version")).toBe(String(version));

    const first = await cache.get(lookup, h.ctx);
    expect(first).toMatchObject({
      source: "ORIGIN",
      status: 200,
      body: directBody,
      etag: direct.headers.get("etag"),
    });
    await h.drain();
    expect(await readHash(h.redis, lookup.l2Key)).toMatchObject({ v: String(version), b: directBody });
    expect((await cache.get(lookup, h.ctx)).source).toBe("L1");
    expect(fetched).toEqual([lookup.originPath]);
  });
});

describe("fresh and stale windows (manual clock)", () => {
  it("serves STALE 'revalidating' past l1FreshMs with one background refresh for 20 concurrent reads", async () => {
    const h = createHarness({ label: "swr" });
    const lookup = gpuLookup(h.keys, "gpu-swr-1");
    const oldBody = h.origin.set(lookup.originPath, { gpuId: "gpu-swr-1", version: 1 }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    h.clock.advance(GPU_POLICY.l1FreshMs - 1);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");

    // Meanwhile the event Lambda wrote a newer record through to L2.
    const newBody = '{"gpuId":"gpu-swr-1","version":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    h.clock.advance(1); // age == l1FreshMs: no longer fresh
    const getsBefore = h.store.calls.get;
    // The refresh is held until all 20 have answered: reads that waited on the log read may come late.
    h.store.modes.get = "hang";
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.cache.get(lookup, h.ctx)));
    for (const answer of answers) {
      expect(answer).toMatchObject({ source: "STALE", staleReason: "revalidating", body: oldBody });
    }
    expect(h.cache.stats.staleServed.revalidating).toBe(20);
    h.store.modes.get = "pass";
    h.store.releaseHung();
    await h.drain();
    expect(h.store.calls.get - getsBefore).toBe(1);
    expect(h.origin.count()).toBe(1);

    const refreshed = await h.cache.get(lookup, h.ctx);
    expect(refreshed).toMatchObject({ source: "L1", body: newBody });
  });

  it("refreshes from the origin when L2 has nothing, then serves the new value fresh from L1", async () => {
    const h = createHarness({ label: "swr-origin" });
    const lookup = gpuLookup(h.keys, "gpu-swr-2");
    h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    await h.redis.del(lookup.l2Key);

    const newBody = h.origin.set(lookup.originPath, { v: 2 }, { version: 2 });
    h.clock.advance(GPU_POLICY.l1FreshMs + 1);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("STALE");
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("STALE");
    await h.drain();
    expect(h.origin.count()).toBe(2);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: newBody });
  });

  it("does not serve from L1 at or past l1MaxMs", async () => {
    const h = createHarness({ label: "max-age" });
    const lookup = gpuLookup(h.keys, "gpu-max-1");
    h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    h.clock.advance(GPU_POLICY.l1MaxMs - 1);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("STALE");
    await h.drain(); // the refresh re-reads L2 and restarts the entry's age
    h.clock.advance(GPU_POLICY.l1MaxMs);
    const getsBefore = h.store.calls.get;
    const answer = await h.cache.get(lookup, h.ctx);
    expect(answer.source).toBe("L2");
    expect(h.store.calls.get - getsBefore).toBe(1);
    expect(h.cache.stats.misses.l1).toBe(2);
  });
});

describe("stale-if-error", () => {
  async function filledThenAged(label: string) {
    const h = createHarness({ label });
    const lookup = gpuLookup(h.keys, `gpu-${label}`);
    const body = h.origin.set(lookup.originPath, { gpuId: label, version: 1 }, { version: 1 });
    const filledAt = h.clock.now();
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    return { h, lookup, body, filledAt };
  }

  it("serves the L1 copy as STALE 'error' when the origin answers 5xx and L2 has nothing, up to the limit", async () => {
    const { h, lookup, body, filledAt } = await filledThenAged("sie-5xx");
    await h.redis.del(lookup.l2Key);
    h.origin.failWith(503);

    h.clock.set(filledAt + GPU_POLICY.l1MaxMs);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "STALE", staleReason: "error", body });
    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + GPU_POLICY.staleIfErrorMs - 1);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "STALE", staleReason: "error", body });
    expect(h.cache.stats.staleServed.error).toBe(2);
    expect(h.cache.stats.originErrors).toBe(2);

    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + GPU_POLICY.staleIfErrorMs);
    await expect(h.cache.get(lookup, h.ctx)).rejects.toBeInstanceOf(OriginUnavailableError);
    expect(h.origin.count()).toBe(4);
  });

  it("serves STALE 'error' when the origin throws and L2 fails too; OriginUnavailableError beyond", async () => {
    const { h, lookup, body, filledAt } = await filledThenAged("sie-throw");
    h.origin.throwOnFetch();
    h.store.modes.get = "fail";

    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + 1);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "STALE", staleReason: "error", body });
    expect(h.cache.stats.redisErrors).toBeGreaterThanOrEqual(1);

    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + GPU_POLICY.staleIfErrorMs + 1);
    const error = await h.cache.get(lookup, h.ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect((error as Error).message).toContain("origin request failed");
  });

  it("throws OriginUnavailableError at once when there is no copy anywhere", async () => {
    const h = createHarness({ label: "sie-none" });
    h.origin.failWith(502);
    await expect(h.cache.get(gpuLookup(h.keys, "gpu-never"), h.ctx)).rejects.toBeInstanceOf(
      OriginUnavailableError,
    );
  });

  it("keeps serving STALE 'revalidating' inside l1MaxMs when the background refresh fails", async () => {
    const { h, lookup, body } = await filledThenAged("sie-swr");
    await h.redis.del(lookup.l2Key);
    h.origin.failWith(500);
    h.clock.advance(GPU_POLICY.l1FreshMs);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({
      source: "STALE",
      staleReason: "revalidating",
      body,
    });
    await h.drain();
    expect(h.logged.some(([message]) => String(message).includes("background refresh"))).toBe(true);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({
      source: "STALE",
      staleReason: "revalidating",
      body,
    });
  });
});

describe("single-flight", () => {
  it("100 concurrent gets of a missing key make one L2 read and one origin fetch", async () => {
    const h = createHarness({ label: "single-flight" });
    const lookup = gpuLookup(h.keys, "gpu-sf-1");
    const body = h.origin.set(lookup.originPath, { gpuId: "gpu-sf-1" }, { version: 1 });
    const release = h.origin.hold();

    const gets = Array.from({ length: 100 }, () => h.cache.get(lookup, h.ctx));
    await h.origin.called(1);
    // Every get has missed L1 and joined the load (those that waited on the log read first included).
    await vi.waitFor(() => expect(h.cache.stats.misses.l1).toBe(100), { timeout: 5_000, interval: 2 });
    release();
    const answers = await Promise.all(gets);
    expect(new Set(answers.map((answer) => answer.body))).toEqual(new Set([body]));
    expect(answers.every((answer) => answer.source === "ORIGIN")).toBe(true);
    expect(h.origin.count()).toBe(1);
    expect(h.store.calls.get).toBe(1);
    expect(h.store.calls.readLog).toBe(1);
    await h.drain();
    expect(h.store.calls.fill).toBe(1);
  });

  it("100 concurrent gets of a key in L2 make one L2 read and no origin fetch", async () => {
    const h = createHarness({ label: "single-flight-l2" });
    const lookup = gpuLookup(h.keys, "gpu-sf-2");
    const body = '{"gpuId":"gpu-sf-2"}';
    await lambda.writeRecord(lookup.l2Key, { version: 4, body, tags: lookup.tags, storedAt: 1 });

    h.store.modes.get = "hang";
    const gets = Array.from({ length: 100 }, () => h.cache.get(lookup, h.ctx));
    await vi.waitFor(() => expect(h.cache.stats.misses.l1).toBe(100), { timeout: 5_000, interval: 2 });
    h.store.releaseHung();
    const answers = await Promise.all(gets);
    expect(answers.every((answer) => answer.source === "L2" && answer.body === body)).toBe(true);
    expect(h.store.calls.get).toBe(1);
    expect(h.origin.count()).toBe(0);
  });
});

describe("private answers never enter a shared tier", () => {
  it.each<{ label: string; headers: Record<string, string> }>([
    { label: "set-cookie", headers: { "Set-Cookie": "session=abc; HttpOnly" } },
    { label: "private", headers: { "Cache-Control": "private, max-age=60" } },
    { label: "no-store", headers: { "Cache-Control": "no-store" } },
  ])("$label → BYPASS, nothing in L1 or L2", async ({ label, headers }) => {
    const h = createHarness({ label: `private-${label}` });
    const lookup = gpuLookup(h.keys, `gpu-private-${label}`);
    const body = h.origin.set(lookup.originPath, { mine: true }, { version: 5, headers });

    const first = await h.cache.get(lookup, h.ctx);
    expect(first).toMatchObject({ source: "BYPASS", body, shareable: false, etag: undefined });
    for (const [name, value] of Object.entries(headers)) {
      expect(first.passHeaders?.[name.toLowerCase()]).toBe(value);
    }
    await h.drain();
    const second = await h.cache.get(lookup, h.ctx);
    expect(second.source).toBe("BYPASS");
    expect(h.origin.count()).toBe(2);
    await h.drain();
    expect(h.store.calls.fill).toBe(0);
    expect(await h.redis.exists(lookup.l2Key)).toBe(0);
    expect(h.cache.stats.bypass).toBe(2);
    expect(h.cache.l1Usage.entries).toBe(0);
  });

  it("stores a public answer whose Cache-Control only mentions revalidation", async () => {
    const h = createHarness({ label: "public-control" });
    const lookup = gpuLookup(h.keys, "gpu-public-1");
    h.origin.set(
      lookup.originPath,
      { v: 1 },
      {
        version: 1,
        headers: { "Cache-Control": "public, max-age=30, must-revalidate, proxy-revalidate" },
      },
    );
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("ORIGIN");
    await h.drain();
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");
    expect(await h.redis.exists(lookup.l2Key)).toBe(1);
  });
});

describe("tag index for aggregates", () => {
  it("an indexed fill registers its L2 key under every tag, with the class's TTL", async () => {
    const h = createHarness({ label: "tag-index" });
    const lookup = listingLookup(h.keys, { region: "us-east", type: "RTX-4090" });
    expect(lookup.indexed).toBe(true);
    h.origin.set(lookup.originPath, { items: [] }); // aggregates carry no version
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    const [tag] = lookup.tags;
    expect(tag).toBe("gpus:us-east:RTX-4090");
    const indexKey = h.keys.tagIndex(tag ?? "");
    expect(await h.redis.smembers(indexKey)).toEqual([lookup.l2Key]);
    const ttlMs = await h.redis.pttl(indexKey);
    const classTtlMs = DEFAULT_DATA_CLASS_POLICIES.availability.l2TtlSeconds * 1000;
    expect(ttlMs).toBeGreaterThan(classTtlMs - 60_000);
    expect(ttlMs).toBeLessThanOrEqual(classTtlMs);
    expect(await readHash(h.redis, lookup.l2Key)).toMatchObject({ v: "0", t: tag });
  });

  it("an entity fill registers nothing under its tag", async () => {
    const h = createHarness({ label: "no-tag-index" });
    const lookup = gpuLookup(h.keys, "gpu-entity-1");
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    expect(await h.redis.exists(lookup.l2Key)).toBe(1);
    expect(await h.redis.exists(h.keys.tagIndex("gpu:gpu-entity-1"))).toBe(0);
  });

  it("keeps unique prefixes apart", () => {
    const a = createKeyspace(uniquePrefix("x"));
    const b = createKeyspace(uniquePrefix("x"));
    expect(a.invalidationLog).not.toBe(b.invalidationLog);
  });
});

describe("private answers and single-flight", () => {
  it("concurrent requests each get their own private answer: the origin is asked once per request", async () => {
    const h = createHarness({ label: "private-flight" });
    const lookup = gpuLookup(h.keys, "gpu-private-flight");
    h.origin.set(lookup.originPath, { user: "whoever" }, { headers: { "Set-Cookie": "session=abc" } });
    const release = h.origin.hold();
    const answers = Promise.all(Array.from({ length: 5 }, () => h.cache.get(lookup, h.ctx)));
    await h.origin.called(1);
    release();
    const results = await answers;
    expect(results.map((answer) => answer.source)).toEqual(Array(5).fill("BYPASS"));
    // One shared fetch for the leader, then one of their own for each of the 4 followers.
    expect(h.origin.count(lookup.originPath)).toBe(5);
  });
});
