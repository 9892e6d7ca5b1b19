/**
 * CloudFrontPurger / CloudFrontInvalidationBatcher with the real
 * `@aws-sdk/client-cloudfront` against the local fake: a burst of events
 * coalesced into few invalidations within 3,000 paths and the wildcard budget,
 * deterministic CallerReference (a repeated batch is one invalidation), back-off
 * on TooManyInvalidationsInProgress (injected sleep), exhausted attempts → a
 * failed outcome with the paths still owed, and the in-progress budget (collapse
 * to broader wildcards, or wait).
 */
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudFrontPathsForTags, coversPath, isWildcardPath } from "../../../../core/purge-paths";
import { orderBookTagsFor, priceTagsFor, statsTagsFor, tags, tagsForGpuChange } from "../../../../core/tags";
import { type CloudFrontFake, startCloudFrontFake } from "../../../../dev/fakes/cloudfront-fake";
import { type CloudFrontBatcherOptions, CloudFrontPurger } from "../../../../lambdas/purge/cloudfront";
import { backoffDelayMs } from "../../../../lambdas/purge/cloudfront/batcher";
import { callerReferenceFor, combinedBatchKey } from "../../../../lambdas/purge/cloudfront/caller-reference";
import { type PurgeOutcome, parsePurgeRetry } from "../../../../lambdas/purge/purger";
import { ManualClock } from "../../../support/manual-clock";
import { settlePromises } from "../../../support/manual-timers";
import { RecordingTimers, recordingSleep } from "../helpers";

const DISTRIBUTION = "EPURGETEST";
let fake: CloudFrontFake;
let client: CloudFrontClient;
let clock: ManualClock;
let timers: RecordingTimers;

beforeAll(async () => {
  fake = await startCloudFrontFake({ completeAfterMs: Number.POSITIVE_INFINITY });
  client = new CloudFrontClient({
    endpoint: fake.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
  });
});
afterAll(async () => {
  client.destroy();
  await fake.close();
});
beforeEach(() => {
  fake.completeAll();
  fake.purges.length = 0;
  fake.requests.length = 0;
  clock = new ManualClock();
  timers = new RecordingTimers(clock);
});
afterEach(() => {
  fake.completeAll();
});

function purger(options: Partial<CloudFrontBatcherOptions> = {}) {
  return new CloudFrontPurger({
    client,
    distributionId: DISTRIBUTION,
    clock,
    timers,
    sleep: recordingSleep(clock).sleep,
    random: () => 0.5,
    logger: { warn: () => {} },
    ...options,
  });
}

const creates = () => fake.requests.filter((request) => request.method === "POST");
const wildcardsIn = (paths: readonly string[]) => paths.filter(isWildcardPath).length;
const invalidated = () => fake.purges.flatMap((purge) => purge.paths);
const coveredBy = (accepted: readonly string[], path: string) =>
  accepted.some((done) => done === path || coversPath(done, path));

const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "sa-east"];

/** The tags of `n` marketplace events over `types` GPU types: bookings, price changes and provider changes. */
function burst(n: number, types: readonly string[]): Array<{ id: string; tags: string[] }> {
  return Array.from({ length: n }, (_, i) => {
    const region = REGIONS[i % REGIONS.length] ?? "us-east";
    const gpuType = types[i % types.length] ?? "A100";
    const gpu = { gpuId: `gpu-${String(i).padStart(5, "0")}`, region, gpuType };
    const kind = i % 10;
    const eventTags =
      kind < 7
        ? [...tagsForGpuChange(gpu), ...orderBookTagsFor(gpuType, region)]
        : kind < 9
          ? [...priceTagsFor(gpuType, region), ...tagsForGpuChange(gpu), ...statsTagsFor(region, gpuType)]
          : [tags.provider(`prov-${i}`), ...tagsForGpuChange(gpu)];
    return { id: `evt-${i}`, tags: eventTags };
  });
}

async function purgeAll(target: CloudFrontPurger, events: Array<{ id: string; tags: string[] }>) {
  const pending = events.map((event) => target.purge(event.tags, event.id));
  await target.flush();
  return Promise.all(pending);
}

describe("coalescing", () => {
  it("sends one invalidation for a burst of 1,000 events, within 3,000 paths and 15 wildcards", async () => {
    const events = burst(1000, ["A100", "H100", "L40S", "RTX-4090", "RTX-3090", "V100", "T4", "MI300X"]);
    const outcomes = await purgeAll(purger(), events);

    expect(creates()).toHaveLength(1);
    expect(fake.purges).toHaveLength(1);
    const [invalidation] = fake.purges;
    expect(invalidation?.paths.length).toBeLessThanOrEqual(3000);
    expect(wildcardsIn(invalidation?.paths ?? [])).toBeLessThanOrEqual(15);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    // Nothing any event needed is left out.
    for (const event of events)
      for (const path of cloudFrontPathsForTags(event.tags))
        expect(coveredBy(invalidated(), path), path).toBe(true);
    // The 100 provider records are individual paths; each GPU record is covered by /v1/gpus*.
    expect(invalidation?.paths).toContain("/v1/gpus*");
    expect(invalidation?.paths.filter((path) => path.startsWith("/v1/providers/"))).toHaveLength(100);
  });

  it("collapses wildcards that would exceed 15 (40 order-book types → /v1/orderbook/*)", async () => {
    const types = Array.from({ length: 40 }, (_, i) => `type-${i}-gpu`);
    const events = burst(1000, types);
    const outcomes = await purgeAll(purger(), events);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(creates()).toHaveLength(1);
    const paths = fake.purges[0]?.paths ?? [];
    expect(wildcardsIn(paths)).toBeLessThanOrEqual(15);
    expect(paths).toContain("/v1/orderbook/*");
    expect(paths.some((path) => path.startsWith("/v1/orderbook/type-"))).toBe(false);
    expect(fake.requests.some((request) => request.code === "TooManyInvalidationsInProgress")).toBe(false);
  });

  it("waits for the window: one timer, nothing sent until it fires, then every caller resolves", async () => {
    const target = purger({ windowMs: 300 });
    const settled: PurgeOutcome[] = [];
    for (let i = 0; i < 20; i++)
      void target.purge([tags.gpu(`g${i}`)], `w-${i}`).then((o) => settled.push(o));
    expect(timers.scheduled).toEqual([300]);
    expect(target.batcher.pending).toBe(20);
    // Just short of the window: still held, nothing on its way to CloudFront.
    timers.advance(299);
    await settlePromises();
    expect(target.batcher.pending).toBe(20);
    expect(timers.scheduled).toEqual([300]);
    expect(creates()).toHaveLength(0);

    timers.advance(1);
    expect(timers.scheduled).toEqual([]);
    await target.batcher.send([], "drain"); // queued behind the flush the timer started
    await settlePromises();
    expect(settled).toHaveLength(20);
    expect(settled.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.purges).toHaveLength(1);
    expect(fake.purges[0]?.paths).toHaveLength(20);
  });

  it("drops an invalid operator path instead of failing the whole coalesced batch", async () => {
    const warnings: Array<{ message: string; fields: unknown }> = [];
    const target = purger({ logger: { warn: (message, fields) => warnings.push({ message, fields }) } });
    const operator = target.purge([], "op-bad", { paths: ["no-slash", "/has space", "/v1/ok*"] });
    const other = target.purge([tags.gpu("g1")], "evt-other");
    await target.flush();
    expect((await operator).ok).toBe(true);
    expect((await other).ok).toBe(true);
    expect(fake.purges[0]?.paths).toEqual(["/v1/gpus/g1", "/v1/ok*"]);
    expect(warnings).toEqual([
      {
        message: "invalid CloudFront path ignored",
        fields: { provider: "cloudfront", batchKey: "op-bad", path: "no-slash" },
      },
      {
        message: "invalid CloudFront path ignored",
        fields: { provider: "cloudfront", batchKey: "op-bad", path: "/has space" },
      },
    ]);
  });

  it("makes no call for tags that map to no path", async () => {
    const outcome = await purger().purge(["unknown:tag", "other:thing"], "evt-none");
    expect(outcome).toMatchObject({ ok: true, calls: 0 });
    expect(timers.scheduled).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("sends operator paths (cache.invalidate) with the tags' paths", async () => {
    const target = purger();
    const pending = target.purge([tags.reference("regions")], "op-1", { paths: ["/v1/custom/thing*"] });
    await target.flush();
    expect((await pending).ok).toBe(true);
    expect(fake.purges[0]?.paths).toEqual(["/v1/custom/thing*", "/v1/regions"]);
  });
});

describe("limits per call and in progress", () => {
  it("splits more than 3,000 paths into calls of at most 3,000 (when the in-progress budget allows)", async () => {
    const big = await startCloudFrontFake({
      completeAfterMs: Number.POSITIVE_INFINITY,
      maxPathsInProgress: 10_000,
    });
    const bigClient = new CloudFrontClient({
      endpoint: big.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    });
    try {
      const target = purger({ client: bigClient, maxPathsInFlight: 10_000 });
      const providerTags = Array.from({ length: 3500 }, (_, i) => tags.provider(`p${i}`));
      const pending = target.purge(providerTags, "big-1");
      await target.flush();
      const outcome = await pending;
      expect(outcome.ok).toBe(true);
      expect(outcome.calls).toBe(2);
      expect(big.purges.map((purge) => purge.paths.length)).toEqual([3000, 500]);
      expect(new Set(big.purges.map((purge) => purge.callerReference)).size).toBe(2);
      expect(new Set(big.purges.flatMap((purge) => purge.paths)).size).toBe(3500);
    } finally {
      bigClient.destroy();
      await big.close();
    }
  });

  it("folds individual paths into a wildcard when more than 3,000 would be in progress", async () => {
    const target = purger();
    const providerTags = Array.from({ length: 3500 }, (_, i) => tags.provider(`p${i}`));
    const pending = target.purge([...providerTags, tags.reference("regions")], "big-2");
    await target.flush();
    expect((await pending).ok).toBe(true);
    expect(fake.purges).toHaveLength(1);
    expect(fake.purges[0]?.paths).toEqual(["/v1/providers/*", "/v1/regions"]);
  });

  it("keeps wildcards in progress within 15 across batches, collapsing the later batch", async () => {
    const target = purger();
    const orderBooks = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => tags.orderBookList(`ob-${from + i}-gpu`));
    const first = target.purge(orderBooks(0, 12), "batch-a");
    await target.flush();
    expect((await first).ok).toBe(true);
    expect(target.batcher.inFlight().reduce((n, entry) => n + entry.wildcards, 0)).toBe(12);

    const second = target.purge([...orderBooks(100, 6), tags.gpu("g1")], "batch-b");
    await target.flush();
    expect((await second).ok).toBe(true);
    expect(fake.purges).toHaveLength(2);
    const later = fake.purges[1]?.paths ?? [];
    expect(wildcardsIn(later)).toBeLessThanOrEqual(3);
    expect(later).toContain("/v1/orderbook/*");
    expect(later).toContain("/v1/gpus/g1");
    // The fake (which enforces the limit) never had to refuse, and was asked whether batch-a had finished.
    expect(fake.requests.some((request) => request.code === "TooManyInvalidationsInProgress")).toBe(false);
    expect(fake.requests.some((request) => request.method === "GET")).toBe(true);
    expect(fake.inProgress().reduce((n, entry) => n + wildcardsIn(entry.paths), 0)).toBeLessThanOrEqual(15);
  });

  it("waits when no wildcard is left, and sends uncollapsed once CloudFront reports the others completed", async () => {
    const { sleep, delays } = recordingSleep(clock, () => fake.completeAll());
    const target = purger({ sleep });
    const full = Array.from({ length: 15 }, (_, i) => tags.orderBookList(`full-${i}-gpu`));
    const first = target.purge(full, "full-1");
    await target.flush();
    expect((await first).ok).toBe(true);

    const second = target.purge(
      [tags.listing(undefined, undefined), tags.price("A100", "us-east")],
      "full-2",
    );
    await target.flush();
    const outcome = await second;
    expect(outcome.ok).toBe(true);
    expect(delays).toHaveLength(1);
    expect(fake.purges[1]?.paths).toEqual(["/v1/gpus*", "/v1/pricing*"]);
    expect(fake.requests.some((request) => request.code === "TooManyInvalidationsInProgress")).toBe(false);
  });

  it("forgets an invalidation after assumeCompletedAfterMs when not polling", async () => {
    const target = purger({ pollInFlight: false, assumeCompletedAfterMs: 60_000 });
    const first = target.purge([tags.listing(undefined, undefined)], "exp-1");
    await target.flush();
    await first;
    expect(target.batcher.inFlight()).toHaveLength(1);
    clock.advance(59_999);
    expect(target.batcher.inFlight()).toHaveLength(1);
    clock.advance(1);
    expect(target.batcher.inFlight()).toHaveLength(0);
  });
});

describe("idempotency", () => {
  it("derives CallerReference from the batch key and the set of paths", () => {
    const a = callerReferenceFor("evt-1", ["/v1/b", "/v1/a"]);
    expect(callerReferenceFor("evt-1", ["/v1/a", "/v1/b", "/v1/a"])).toBe(a);
    expect(callerReferenceFor("evt-2", ["/v1/a", "/v1/b"])).not.toBe(a);
    expect(callerReferenceFor("evt-1", ["/v1/a"])).not.toBe(a);
    expect(a).toMatch(/^ec-[0-9a-f]{40}$/);
    expect(combinedBatchKey(["e2", "e1", "e2"])).toBe(combinedBatchKey(["e1", "e2"]));
    expect(combinedBatchKey(["e1"])).toBe("e1");
  });

  it("the same batch sent twice (a retried Lambda, a fresh process) is one invalidation on CloudFront", async () => {
    const eventTags = [...tagsForGpuChange({ gpuId: "g9", region: "us-east", gpuType: "A100" })];
    const outcomes: PurgeOutcome[] = [];
    for (let run = 0; run < 2; run++) {
      const target = purger();
      const pending = target.purge(eventTags, "evt-idem");
      await target.flush();
      outcomes.push(await pending);
    }
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
    expect(creates()).toHaveLength(2);
    expect(fake.purges).toHaveLength(1);
    expect(outcomes[1]?.chunks[0]?.id).toBe(outcomes[0]?.chunks[0]?.id);
    expect(fake.purges[0]?.callerReference).toBe(
      callerReferenceFor("evt-idem", cloudFrontPathsForTags(eventTags)),
    );
  });
});

describe("TooManyInvalidationsInProgress", () => {
  it("backs off with jitter (injected sleep) and then succeeds", async () => {
    fake.failNext(2, "TooManyInvalidationsInProgress");
    const { sleep, delays } = recordingSleep(clock);
    const randoms = [0, 1 - Number.EPSILON];
    const target = purger({
      sleep,
      random: () => randoms.shift() ?? 0.5,
      backoff: { baseMs: 1000, maxMs: 8000 },
    });
    const pending = target.purge([tags.listing("us-east", "A100"), tags.gpu("g1")], "evt-busy");
    await target.flush();
    const outcome = await pending;
    expect(outcome).toMatchObject({ ok: true, calls: 3 });
    expect(delays).toEqual([500, 2000]); // attempt 1: [500, 1000]; attempt 2: [1000, 2000]
    expect(creates().map((request) => request.code ?? request.status)).toEqual([
      "TooManyInvalidationsInProgress",
      "TooManyInvalidationsInProgress",
      201,
    ]);
    expect(fake.purges).toHaveLength(1);
  });

  it("returns a failed outcome with the paths after maxAttempts, and the retry replays it", async () => {
    fake.failNext(3, "TooManyInvalidationsInProgress");
    const { sleep, delays } = recordingSleep(clock);
    const target = purger({ sleep, maxAttempts: 3 });
    const a = target.purge([tags.listing(undefined, undefined)], "evt-a");
    const b = target.purge([tags.provider("p1")], "evt-b");
    await target.flush();
    const [outcomeA, outcomeB] = await Promise.all([a, b]);
    expect(delays).toHaveLength(2);
    expect(fake.purges).toHaveLength(0);
    for (const outcome of [outcomeA, outcomeB]) {
      expect(outcome?.ok).toBe(false);
      if (!outcome || outcome.ok) continue;
      expect(outcome.calls).toBe(3);
      expect(outcome.error).toMatch(/gave up after 3 attempts.*TooManyInvalidationsInProgress/);
      expect(outcome.retry).toEqual({
        provider: "cloudfront",
        distributionId: DISTRIBUTION,
        paths: ["/v1/gpus*", "/v1/providers/p1"],
        batchKey: combinedBatchKey(["evt-a", "evt-b"]),
      });
    }
    if (!outcomeA || outcomeA.ok) return;
    const description = parsePurgeRetry(JSON.parse(JSON.stringify(outcomeA.retry)));
    const retried = await purger().retry(description);
    expect(retried.ok).toBe(true);
    expect(fake.purges).toHaveLength(1);
    expect(fake.purges[0]?.callerReference).toBe(
      callerReferenceFor(description.batchKey, ["/v1/gpus*", "/v1/providers/p1"]),
    );
    // Replaying the same description again (both callers enqueued it) is the same invalidation.
    expect((await purger().retry(description)).ok).toBe(true);
    expect(fake.purges).toHaveLength(1);
  });

  it("fails at once, without back-off, for an error a retry cannot fix", async () => {
    fake.failNext(1, "AccessDenied");
    const { sleep, delays } = recordingSleep(clock);
    const target = purger({ sleep });
    const pending = target.purge([tags.gpu("g1")], "evt-denied");
    await target.flush();
    const outcome = await pending;
    expect(outcome).toMatchObject({ ok: false, calls: 1, retry: { paths: ["/v1/gpus/g1"] } });
    expect(delays).toEqual([]);
  });

  it("reports each caller ok when its own paths went out, even if another chunk failed", async () => {
    const flaky = new CloudFrontClient({
      endpoint: fake.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    });
    flaky.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { InvalidationBatch?: { Paths?: { Items?: string[] } } };
        if (input.InvalidationBatch?.Paths?.Items?.includes("/v1/providers/bad"))
          throw Object.assign(new Error("denied"), {
            name: "AccessDenied",
            $metadata: { httpStatusCode: 403 },
          });
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      const target = purger({ client: flaky, maxPathsPerInvalidation: 1 });
      const good = target.purge([tags.provider("good")], "evt-good");
      const bad = target.purge([tags.provider("bad")], "evt-bad");
      await target.flush();
      expect((await good).ok).toBe(true);
      const badOutcome = await bad;
      expect(badOutcome).toMatchObject({ ok: false, retry: { paths: ["/v1/providers/bad"] } });
      expect(fake.purges.map((purge) => purge.paths)).toEqual([["/v1/providers/good"]]);
    } finally {
      flaky.destroy();
    }
  });

  it("computes jittered exponential delays within [cap/2, cap]", () => {
    expect(backoffDelayMs(1, { baseMs: 1000, maxMs: 20_000 }, () => 0)).toBe(500);
    expect(backoffDelayMs(3, { baseMs: 1000, maxMs: 20_000 }, () => 0.999999)).toBe(4000);
    expect(backoffDelayMs(10, { baseMs: 1000, maxMs: 20_000 }, () => 0.5)).toBe(15_000);
  });
});

describe("retry descriptions", () => {
  it("refuses another provider's description and reports a distribution mismatch as failed", async () => {
    await expect(
      purger().retry({ provider: "cloudflare", zoneId: "z", tags: ["t"], batchKey: "k" }),
    ).rejects.toThrow(TypeError);
    const outcome = await purger().retry({
      provider: "cloudfront",
      distributionId: "EOTHER",
      paths: ["/a"],
      batchKey: "k",
    });
    expect(outcome).toMatchObject({ ok: false, calls: 0, retry: { distributionId: "EOTHER" } });
    expect(fake.requests).toHaveLength(0);
  });
});
