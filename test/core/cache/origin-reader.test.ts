/**
 * Reading the origin (core/cache/origin-reader.ts): what is stored and with which ETag and
 * version, what passes through as private, what is an error, and the timeout. The origin
 * is a function returning Responses; the timeout runs on manual timers.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { strongEtag, type TierTiming } from "../../../core/cache/loaded-value";
import { OriginReader, OriginUnavailableError } from "../../../core/cache/origin-reader";
import { ManualTimers, settlePromises } from "../../support/manual-timers";

const TIMEOUT_MS = 100;

function createReader(fetchOrigin: (path: string, signal: AbortSignal) => Promise<Response>) {
  const timers = new ManualTimers();
  const counters = { hits: { l1: 0, l2: 0, origin: 0 }, bypass: 0, originErrors: 0 };
  const reader = new OriginReader({
    fetchOrigin,
    timeoutMs: TIMEOUT_MS,
    clock: timers.clock,
    timers,
    counters,
  });
  return { reader, timers, counters };
}

function answering(body: string, init: ResponseInit = {}) {
  return createReader(async () => new Response(body, init));
}

describe("OriginReader", () => {
  it("a public 200 is storable, with a strong ETag of its body and its X-Origin-Version", async () => {
    const body = '{"gpuId":"gpu-1","note":"日本語"}';
    const r = answering(body, { headers: { "Content-Type": "application/json", "X-Origin-Version": "7" } });
    const timings: TierTiming[] = [];
    const loaded = await r.reader.read("/v1/gpus/gpu-1", timings);
    expect(loaded).toMatchObject({ status: 200, body, source: "ORIGIN", storable: true, version: 7 });
    const sha = createHash("sha256").update(body, "utf8").digest("hex");
    expect(loaded.etag).toBe(`"${sha.slice(0, 32)}"`);
    expect(loaded.etag).toBe(await strongEtag(body));
    expect(timings).toEqual([{ tier: "origin", ms: 0 }]);
    expect(r.counters.hits.origin).toBe(1);
    expect(r.timers.pendingCount).toBe(0);
  });

  it.each(["abc", "-3", "0", ""])("an X-Origin-Version of %j counts as no version", async (header) => {
    const r = answering("{}", { headers: { "X-Origin-Version": header } });
    expect((await r.reader.read("/x", [])).version).toBe(0);
  });

  it("a 4xx answer is passed on but not storable, without an ETag", async () => {
    const r = answering('{"error":"not found"}', { status: 404 });
    expect(await r.reader.read("/x", [])).toMatchObject({
      status: 404,
      source: "ORIGIN",
      storable: false,
      etag: undefined,
    });
  });

  it.each<[string, Record<string, string>]>([
    ["Set-Cookie", { "Set-Cookie": "session=abc" }],
    ["private", { "Cache-Control": "Private, max-age=60" }],
    ["no-store", { "Cache-Control": "max-age=0,no-store" }],
  ])("%s → BYPASS with the origin's caching headers passed on", async (_, headers) => {
    const r = answering("{}", { headers: { ...headers, Vary: "Cookie" } });
    const loaded = await r.reader.read("/x", []);
    expect(loaded).toMatchObject({ source: "BYPASS", storable: false, etag: undefined, version: 0 });
    for (const [name, value] of Object.entries(headers))
      expect(loaded.passHeaders?.[name.toLowerCase()]).toBe(value);
    expect(loaded.passHeaders?.vary).toBe("Cookie");
    expect(r.counters).toMatchObject({ bypass: 1, hits: { origin: 0 } });
  });

  it.each(["public, max-age=30, must-revalidate", "no-cache", "x-private-hint=1"])(
    "Cache-Control %j is not private",
    async (cacheControl) => {
      const r = answering("{}", { headers: { "Cache-Control": cacheControl } });
      expect((await r.reader.read("/x", [])).source).toBe("ORIGIN");
    },
  );

  it("a 5xx answer is an OriginUnavailableError", async () => {
    const r = answering("oops", { status: 503 });
    await expect(r.reader.read("/x", [])).rejects.toThrow(new OriginUnavailableError("origin answered 503"));
    expect(r.counters.originErrors).toBe(1);
  });

  it("a network error is an OriginUnavailableError with the cause", async () => {
    const cause = new TypeError("connect ECONNREFUSED");
    const r = createReader(() => Promise.reject(cause));
    const timings: TierTiming[] = [];
    const error = await r.reader.read("/x", timings).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect(error).toMatchObject({ message: "origin request failed: connect ECONNREFUSED", cause });
    expect(timings).toHaveLength(1);
    expect(r.counters.originErrors).toBe(1);
  });

  it("aborts the fetch at the timeout", async () => {
    let signal: AbortSignal | undefined;
    const r = createReader(
      (_, given) =>
        new Promise<Response>((_resolve, reject) => {
          signal = given;
          given.addEventListener("abort", () => reject(given.reason), { once: true });
        }),
    );
    let error: unknown;
    void r.reader.read("/x", []).catch((caught: unknown) => {
      error = caught;
    });
    r.timers.advance(TIMEOUT_MS - 1);
    await settlePromises();
    expect(signal?.aborted).toBe(false);
    r.timers.advance(1);
    await settlePromises();
    expect(signal?.aborted).toBe(true);
    expect(error).toBeInstanceOf(OriginUnavailableError);
    expect(String(error)).toContain(`origin did not answer within ${TIMEOUT_MS} ms`);
  });
});
