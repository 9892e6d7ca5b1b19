/**
 * The Workers Cache purger end to end: signed calls over real HTTP to a local server
 * standing in for the Worker's endpoint (it checks the Standard Webhooks signature and
 * the body), tokens from the shared bucket in the real redis-server. A purge takes tokens
 * for the calls it wants, gives back what its plan did not use, and what was not sent (no
 * token, a 503, a 5xx, a refusal, a network error) comes back as a failed outcome whose
 * retry owes exactly that; tags whose class's front TTL is short are not purged at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DataClassPolicies, DEFAULT_DATA_CLASS_POLICIES } from "../../../../core/data-classes";
import { createKeyspace } from "../../../../core/keys";
import { tags } from "../../../../core/tags";
import { createPurgers, parsePurgeSettings } from "../../../../lambdas/purge/config";
import type { PurgeOutcome } from "../../../../lambdas/purge/purger";
import {
  createSharedTokenBucket,
  type TokenBucket,
  WorkersCachePurger,
} from "../../../../lambdas/purge/workers-cache";
import { ManualClock } from "../../../support/manual-clock";
import { uniquePrefix, upstashClient } from "../../../support/redis";
import { type PurgeEndpoint, startPurgeEndpoint } from "../../../support/worker-purge-endpoint";
import { recordingLogger } from "../../shared/recording";

const SECRET = "whsec_cHVyZ2Utc2VjcmV0LWZvci10ZXN0cw==";
const OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtd29ya2Vycw==";

let endpoint: PurgeEndpoint;
// Starts at the real time: the stand-in checks signatures against the same clock.
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  endpoint = await startPurgeEndpoint({ secret: SECRET, now: clock.now });
});
afterAll(async () => {
  await endpoint.close();
});

function bucket(label: string): TokenBucket {
  return createSharedTokenBucket({
    redis: upstashClient(),
    key: createKeyspace(uniquePrefix(label)).workersCachePurgeBucket,
    capacity: 25,
    perMinute: 5,
    clock,
  });
}

function purger(shared: TokenBucket, secret = SECRET, url = endpoint.url) {
  return new WorkersCachePurger({ url, secret, bucket: shared, clock });
}

/** The requests a step made to the stand-in. */
async function requestsOf<T>(step: () => Promise<T>): Promise<{ result: T; statuses: number[] }> {
  const before = endpoint.requests.length;
  const result = await step();
  return { result, statuses: endpoint.requests.slice(before).map((request) => request.status) };
}

const retryOf = (outcome: PurgeOutcome) => (outcome.ok ? undefined : outcome.retry);
const gpuTags = (count: number, label: string) =>
  Array.from({ length: count }, (_, i) => tags.gpu(`${label}-${i}`));

describe("WorkersCachePurger", () => {
  it("sends signed calls of at most 100 tags, each taking a token", async () => {
    const shared = bucket("wc-ok");
    const owed = gpuTags(150, "ok");
    const { result, statuses } = await requestsOf(() => purger(shared).purge(owed, "evt-ok"));
    expect(result).toMatchObject({ ok: true, provider: "workers-cache", calls: 2 });
    expect(statuses).toEqual([200, 200]);
    for (const tag of owed) expect(endpoint.purged(tag)).toBe(true);
    const [first] = endpoint.requests.slice(-2);
    expect(first?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(first?.headers["content-type"]).toBe("application/json");
    expect((await shared.take(0)).remaining).toBe(23);
  });

  it("gives back the tokens a fallback plan did not use", async () => {
    const shared = bucket("wc-refund");
    await shared.take(22);
    // 400 GPU tags want 4 calls; 3 tokens: their prefixes, folded into one call.
    const { result, statuses } = await requestsOf(() =>
      purger(shared).purge(gpuTags(400, "refund"), "evt-r"),
    );
    expect(result).toMatchObject({ ok: true, calls: 1 });
    expect(statuses).toEqual([200]);
    expect(endpoint.requests.at(-1)?.body).toEqual({ pathPrefixes: ["/v1/gpus"] });
    expect((await shared.take(0)).remaining).toBe(2);
  });

  it("with an empty bucket sends nothing and owes everything", async () => {
    const shared = bucket("wc-empty");
    await shared.take(25);
    const owed = [tags.reference("regions"), "custom:x"];
    const { result, statuses } = await requestsOf(() =>
      purger(shared).purge(owed, "evt-empty", { paths: ["/v1/gpus/*"] }),
    );
    expect(statuses).toEqual([]);
    expect(result).toMatchObject({ ok: false, calls: 0, error: expect.stringMatching(/no purge token/) });
    expect(retryOf(result)).toEqual({
      provider: "workers-cache",
      tags: ["custom:x", "ref:regions"],
      pathPrefixes: ["/v1/gpus"],
      everything: false,
      batchKey: "evt-empty",
    });
  });

  it("stops at a 503 from the Worker, owes the refused and unsent calls, and drains the shared bucket", async () => {
    const shared = bucket("wc-503");
    const owed = gpuTags(300, "rl");
    endpoint.refuseNext(1, 503);
    const { result, statuses } = await requestsOf(() => purger(shared).purge(owed, "evt-503"));
    expect(statuses).toEqual([503]);
    expect(result).toMatchObject({
      ok: false,
      calls: 1,
      error: expect.stringMatching(/503 \(Retry-After 12\)/),
    });
    expect(retryOf(result)).toMatchObject({ provider: "workers-cache", tags: [...owed].sort() });
    expect((await shared.take(0)).remaining).toBe(0);
  });

  it("after a 5xx still sends the other calls, and owes only the failed one's tags", async () => {
    const shared = bucket("wc-500");
    const owed = gpuTags(200, "five");
    endpoint.refuseNext(1, 500);
    const { result, statuses } = await requestsOf(() => purger(shared).purge(owed, "evt-500"));
    expect(statuses).toEqual([500, 200]);
    const retry = retryOf(result);
    expect(retry?.provider === "workers-cache" && retry.tags).toHaveLength(100);
    expect(result.chunks.map((chunk) => chunk.ok)).toEqual([false, true]);
  });

  it("fails on a refused signature and on a network error, never throwing", async () => {
    const wrongSecret = await requestsOf(() =>
      purger(bucket("wc-401"), OTHER_SECRET).purge(["custom:a"], "e"),
    );
    expect(wrongSecret.statuses).toEqual([401]);
    expect(wrongSecret.result).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 401/) });
    const unreachable = await purger(bucket("wc-down"), SECRET, "http://127.0.0.1:1/_cache/purge").purge(
      ["custom:a"],
      "e",
    );
    expect(unreachable).toMatchObject({ ok: false, retry: { tags: ["custom:a"] } });
  });

  it("replays a retry description as given", async () => {
    const outcome = await purger(bucket("wc-retry")).retry({
      provider: "workers-cache",
      tags: ["custom:replayed"],
      pathPrefixes: ["/v1/regions"],
      everything: false,
      batchKey: "k",
    });
    expect(outcome).toMatchObject({ ok: true, calls: 2 });
    expect(endpoint.purged("custom:replayed")).toBe(true);
    expect(endpoint.accepted).toContainEqual({ pathPrefixes: ["/v1/regions"] });
  });
});

describe("the Workers Cache purger built from the settings", () => {
  const env = (extra: Record<string, string> = {}) =>
    parsePurgeSettings({
      WORKERS_CACHE_PURGE_URL: endpoint.url,
      WORKERS_CACHE_PURGE_SECRET: SECRET,
      ...extra,
    });
  const build = (policies: DataClassPolicies, extra: Record<string, string> = {}) =>
    createPurgers(env(extra), {
      logger: { info: () => {}, warn: () => {} },
      redis: { client: upstashClient(), keys: createKeyspace(uniquePrefix("wc-settings")) },
      policies,
      workersCache: { clock },
    });
  /** Each event-covered class held 1 s at the front, reference an hour (the defaults the project ships). */
  const shortFront: DataClassPolicies = Object.fromEntries(
    Object.entries(DEFAULT_DATA_CLASS_POLICIES).map(([name, policy]) => [
      name,
      { ...policy, cdnMaxAgeSeconds: name === "reference" ? 3600 : 1 },
    ]),
  ) as unknown as DataClassPolicies;

  it("skips tags whose class's front TTL is at most WORKERS_CACHE_PURGE_MIN_TTL_SECONDS", async () => {
    const purgers = build(shortFront);
    expect(purgers.configured.workersCache).toBe(true);
    const gpu = tags.gpu("filtered-1");
    const listing = tags.listing("us-east", undefined);
    const reference = tags.reference("gpu-types");
    expect(purgers.workersCacheTargets([gpu, listing, reference, "custom:kept"])).toEqual({
      tags: ["custom:kept", reference],
      pathPrefixes: [],
      everything: false,
    });
    const { result, statuses } = await requestsOf(() => purgers.workersCache.purge([gpu, listing], "evt-f"));
    // Nothing worth a call: no token spent, nothing sent.
    expect(result).toMatchObject({ ok: true, calls: 0 });
    expect(statuses).toEqual([]);
    // A longer front TTL than the minimum: purged.
    const zeroMin = build(shortFront, { WORKERS_CACHE_PURGE_MIN_TTL_SECONDS: "0" });
    expect(zeroMin.workersCacheTargets([gpu]).tags).toEqual([gpu]);
  });

  it("without a URL only logs what it would purge", async () => {
    const { lines, logger } = recordingLogger();
    const purgers = createPurgers(parsePurgeSettings({}), { logger, policies: shortFront });
    expect(purgers.configured.workersCache).toBe(false);
    expect(
      await purgers.workersCache.purge([tags.reference("regions"), tags.gpu("g")], "evt-l"),
    ).toMatchObject({
      ok: true,
      skipped: true,
    });
    expect(lines).toMatchObject([
      {
        message: "purge skipped: provider not configured",
        fields: { provider: "workers-cache", batchKey: "evt-l", purged: ["ref:regions"] },
      },
    ]);
  });
});
