/**
 * CloudflarePurger with the real `cloudflare` SDK against the local fake: chunks
 * of at most 100 tags, 429s retried by the SDK honouring Retry-After and the
 * purge not lost, exhausted retries reported failed with the tags, and the retry
 * description replayed. Plus the logging purger for an unconfigured provider.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type CloudflareFake, startCloudflareFake } from "../../../dev/fakes/cloudflare-fake";
import { boundedRetryAfter, CloudflarePurger } from "../../../lambdas/purge/cloudflare-purger";
import { createLoggingPurger, parsePurgeRetry } from "../../../lambdas/purge/purger";
import { ManualClock } from "../../support/manual-clock";

const TOKEN = "purger-token";
const ZONE = "zone-abc";
let fake: CloudflareFake;

const tagList = (n: number, prefix = "gpu:g") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const purgedTags = () => fake.purges.flatMap((purge) => purge.items);

beforeAll(async () => {
  fake = await startCloudflareFake({ apiToken: TOKEN, retryAfter: "0" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.purges.length = 0;
  fake.requests.length = 0;
});

function purger(options: { maxRetries?: number; chunkSize?: number; apiToken?: string } = {}) {
  return new CloudflarePurger({
    zoneId: ZONE,
    apiToken: options.apiToken ?? TOKEN,
    baseURL: `${fake.url}/client/v4`,
    maxRetries: options.maxRetries ?? 2,
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  });
}

describe("CloudflarePurger", () => {
  it("purges 250 tags in 3 calls of at most 100, one result per chunk", async () => {
    const tags = tagList(250);
    const outcome = await purger().purge(tags, "evt-1");
    expect(outcome).toMatchObject({ ok: true, provider: "cloudflare", calls: 3 });
    expect(outcome.chunks.map((chunk) => chunk.items.length)).toEqual([100, 100, 50]);
    expect(outcome.chunks.every((chunk) => chunk.ok && typeof chunk.id === "string")).toBe(true);
    expect(fake.requests).toHaveLength(3);
    expect(fake.purges.map((purge) => purge.items.length)).toEqual([100, 100, 50]);
    expect(fake.purges.every((purge) => purge.zoneId === ZONE && purge.kind === "tags")).toBe(true);
    expect(purgedTags().sort()).toEqual([...tags].sort());
  });

  it("dedupes tags and honours a smaller configured chunk size", async () => {
    const outcome = await purger({ chunkSize: 30 }).purge([...tagList(70), ...tagList(70)], "evt-2");
    expect(outcome.calls).toBe(3);
    expect(fake.purges.map((purge) => purge.items.length)).toEqual([30, 30, 10]);
    expect(new Set(purgedTags()).size).toBe(70);
    expect(() => new CloudflarePurger({ zoneId: ZONE, apiToken: TOKEN, chunkSize: 101 })).toThrow(RangeError);
  });

  it("makes no call for no tags", async () => {
    expect(await purger().purge([], "evt-empty")).toMatchObject({ ok: true, calls: 0, chunks: [] });
    expect(fake.requests).toHaveLength(0);
  });

  it("retries a 429 through the SDK and loses no purge", async () => {
    fake.failNext(2, "rate-limit");
    const tags = tagList(150);
    const outcome = await purger({ maxRetries: 2 }).purge(tags, "evt-3");
    expect(outcome.ok).toBe(true);
    // First chunk: 429, 429, 200 (SDK retries 1 and 2); second chunk: 200.
    expect(fake.requests.map((request) => request.status)).toEqual([429, 429, 200, 200]);
    expect(fake.requests.map((request) => request.retryCount)).toEqual([0, 1, 2, 0]);
    expect(purgedTags().sort()).toEqual([...tags].sort());
  });

  it("waits as long as Retry-After says before retrying", async () => {
    fake.failNext(1, "rate-limit", "0.08");
    const started = performance.now();
    const outcome = await purger().purge(["gpu:slow"], "evt-4");
    expect(outcome.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(fake.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it("does not sleep through a long Retry-After: the chunk fails at once for the retry queue", async () => {
    fake.failNext(1, "rate-limit", "120");
    const started = performance.now();
    const target = new CloudflarePurger({
      zoneId: ZONE,
      apiToken: TOKEN,
      baseURL: `${fake.url}/client/v4`,
      maxRetries: 3,
      maxRetryAfterMs: 1000,
    });
    const outcome = await target.purge(["gpu:x"], "evt-long");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outcome).toMatchObject({ ok: false, retry: { tags: ["gpu:x"] } });
    expect(fake.requests.map((request) => request.status)).toEqual([429]);
  });

  it("reports exhausted retries as failed with the tags (and the unsent chunks), never drops them", async () => {
    fake.failNext(3, "rate-limit");
    const tags = tagList(250);
    const outcome = await purger({ maxRetries: 2 }).purge(tags, "evt-5");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(fake.requests.map((request) => request.status)).toEqual([429, 429, 429]);
    expect(fake.purges).toHaveLength(0);
    expect(outcome.chunks.map((chunk) => chunk.ok)).toEqual([false, false, false]);
    expect(outcome.chunks[1]?.error).toMatch(/not sent: rate limited/);
    expect(outcome.error).toMatch(/3 of 3/);
    expect(outcome.retry).toEqual({ provider: "cloudflare", zoneId: ZONE, tags, batchKey: "evt-5" });

    // The description survives a queue (JSON) and, replayed later, purges everything.
    const replayed = parsePurgeRetry(JSON.parse(JSON.stringify(outcome.retry)));
    const retried = await purger().retry(replayed);
    expect(retried).toMatchObject({ ok: true, calls: 3 });
    expect(purgedTags().sort()).toEqual([...tags].sort());
  });

  it("keeps going after a chunk fails for another reason and reports only what failed", async () => {
    // maxRetries 0: a 500 carries no Retry-After, and the SDK's own back-off would really sleep.
    fake.failNext(1, "server-error");
    const tags = tagList(150);
    const outcome = await purger({ maxRetries: 0 }).purge(tags, "evt-6");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.chunks.map((chunk) => chunk.ok)).toEqual([false, true]);
    expect(outcome.retry).toMatchObject({ tags: tags.slice(0, 100) });
    expect(purgedTags()).toEqual(tags.slice(100));
    expect(fake.requests.map((request) => request.status)).toEqual([500, 200]);
  });

  it("reports a bad token as failed with every tag", async () => {
    const outcome = await purger({ apiToken: "wrong", maxRetries: 0 }).purge(tagList(3), "evt-7");
    expect(outcome).toMatchObject({ ok: false, retry: { tags: tagList(3) } });
    expect(fake.requests.map((request) => request.status)).toEqual([401]);
  });

  it("refuses a description for another provider", async () => {
    await expect(
      purger().retry({ provider: "cloudfront", distributionId: "E1", paths: ["/a"], batchKey: "k" }),
    ).rejects.toThrow(TypeError);
  });
});

describe("boundedRetryAfter", () => {
  const clock = new ManualClock(Date.parse("2026-11-01T10:00:00Z"));
  const answering = (headers: Record<string, string>) => async () =>
    new Response("rate limited", { status: 429, headers });
  const shouldRetry = async (headers: Record<string, string>) =>
    (await boundedRetryAfter(10_000, clock, answering(headers))("https://api.invalid/purge")).headers.get(
      "x-should-retry",
    );

  it("leaves a wait within the bound to the SDK and stops one beyond it", async () => {
    expect(await shouldRetry({})).toBeNull();
    expect(await shouldRetry({ "retry-after": "5" })).toBeNull();
    expect(await shouldRetry({ "retry-after": "11" })).toBe("false");
  });

  it("reads retry-after-ms as milliseconds, not seconds", async () => {
    expect(await shouldRetry({ "retry-after-ms": "50" })).toBeNull();
    expect(await shouldRetry({ "retry-after-ms": "10001" })).toBe("false");
  });

  it("reads an HTTP-date Retry-After as the wait from the injected clock's now", async () => {
    const inSeconds = (seconds: number) => new Date(clock.now() + seconds * 1000).toUTCString();
    expect(await shouldRetry({ "retry-after": inSeconds(5) })).toBeNull();
    expect(await shouldRetry({ "retry-after": inSeconds(60) })).toBe("false");
    // The same date, read later, is a shorter wait.
    const date = inSeconds(60);
    clock.advance(55_000);
    expect(await shouldRetry({ "retry-after": date })).toBeNull();
  });

  it("keeps the status and body of the response it marks", async () => {
    const response = await boundedRetryAfter(
      1_000,
      clock,
      answering({ "retry-after": "120" }),
    )("https://api.invalid/purge");
    expect(response.status).toBe(429);
    expect(await response.text()).toBe("rate limited");
  });
});

describe("createLoggingPurger", () => {
  it("logs what it would purge and reports it skipped without calling anything", async () => {
    const info = vi.fn();
    const logging = createLoggingPurger(
      "cloudflare",
      { info },
      { describe: (tags) => ({ count: tags.length }) },
    );
    const outcome = await logging.purge(["gpu:a", "gpu:b"], "evt-9", { paths: ["/v1/x"] });
    expect(outcome).toEqual({ ok: true, provider: "cloudflare", calls: 0, chunks: [], skipped: true });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]).toEqual([
      "purge skipped: provider not configured",
      { provider: "cloudflare", batchKey: "evt-9", tags: ["gpu:a", "gpu:b"], paths: ["/v1/x"], count: 2 },
    ]);
    expect(
      await logging.retry({ provider: "cloudflare", zoneId: "z", tags: ["t"], batchKey: "k" }),
    ).toMatchObject({
      skipped: true,
    });
    expect(info).toHaveBeenCalledTimes(2);
    expect(fake.requests).toHaveLength(0);
  });
});
