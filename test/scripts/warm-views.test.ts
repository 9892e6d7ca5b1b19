/**
 * `npm run warm` (scripts/warm-views.ts) run for real: against the test bridge and the shared
 * sample origin it warms every view of a fresh keyspace, which then answers as the origin does;
 * half a target set is refused with one line naming what is missing, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRedisL2Store } from "../../core/cache/l2-store";
import { createKeyspace } from "../../core/keys";
import { type OriginServer, startOriginServer } from "../../dev/origin/server";
import { uniquePrefix, upstashClient } from "../support/redis";
import { runScript } from "../support/run-script";

/** npm run warm, with only the given environment (and no local stack to fall back on). */
function warm(env: Record<string, string>) {
  return runScript("scripts/warm-views.ts", [], {
    env: { PATH: process.env.PATH ?? "", LOCAL_STACK_STATE: "/nonexistent/stack.json", ...env },
    timeoutMs: 60_000,
  });
}

describe("npm run warm", () => {
  // An origin of its own: the shared one may change under other suites between warm and compare.
  let origin: OriginServer;
  beforeAll(async () => {
    origin = await startOriginServer({ gpuCount: 300 });
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("warms the views of the keyspace it is given; the listings then answer as the origin does", async () => {
    const prefix = uniquePrefix("warm-cli");
    const run = await warm({
      UPSTASH_REDIS_REST_URL: inject("bridgeUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
      ORIGIN_URL: origin.url,
      KEY_PREFIX: prefix,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^warm: \d+ GPUs in \d+ pages and \d+ price, stats and order-book records from /,
    );

    const keys = createKeyspace(prefix);
    const read = await createRedisL2Store(upstashClient(), keys).readListings([
      { key: keys.listingView("us-east", undefined, undefined, "price"), limit: 5 },
      { key: keys.collectionView("prices", undefined, "us-east"), limit: 0 },
    ]);
    expect(read.outcome).toBe("ok");
    if (read.outcome !== "ok") return;
    const expected = await Promise.all(
      ["/v1/gpus?region=us-east&sort=price&limit=5", "/v1/pricing?region=us-east"].map(async (path) =>
        (await fetch(`${origin.url}${path}`)).json(),
      ),
    );
    expect(read.bodies.map((body) => JSON.parse(body ?? "null"))).toEqual(expected);
  });

  it("refuses half a target: one line naming the missing settings, exit 1", async () => {
    const run = await warm({ UPSTASH_REDIS_REST_URL: inject("bridgeUrl") });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim()).toBe(
      "warm: set all of UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, ORIGIN_URL or none (missing: UPSTASH_REDIS_REST_TOKEN, ORIGIN_URL)",
    );
  });

  it("without targets and without a running stack, says how to get one", async () => {
    const run = await warm({});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^warm: no running local stack \(\/nonexistent\/stack\.json is missing or stale\): run npm start/,
    );
  });
});
