/**
 * Refills carry their tags' version to the origin (core/tag-versions.ts), inside workerd:
 * an event applied by the event Lambda's own applier (the real apply script, on the
 * harness's Redis) gives the listing's tag a version, and the Worker's next origin request
 * for it carries `_v=<that log id>`; the shared sample origin answers it as the plain URL
 * (it ignores parameters it does not know). The version never reaches the edge's cache key:
 * a client's own `_v` is dropped like any unknown parameter.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import { parseEventBody } from "../../core/events";
import { createEventApplier } from "../../lambdas/events/apply";
import { makeTestApp, originText, redis, type TestApp } from "./support";

/** The default L1_SYNC_INTERVAL_MS of the Worker under test. */
const SYNC_INTERVAL_MS = 500;

/** An operator's cache.invalidate naming `tags`, applied as the event Lambda applies it; its log id. */
async function invalidate(app: TestApp, tags: string[]): Promise<string> {
  const events = parseEventBody({
    id: `evt-origin-version-${crypto.randomUUID()}`,
    type: "cache.invalidate",
    occurredAt: new Date(app.clock.now()).toISOString(),
    version: 0,
    data: { tags },
  });
  const applier = createEventApplier(redis, app.keys, app.clock, DEFAULT_DATA_CLASS_POLICIES);
  const [result] = await applier.apply(events);
  expect(result?.status).toBe("applied");
  return result?.logId ?? "";
}

describe("origin requests after an event", () => {
  it("carry the tag's version; the sample origin answers them as the plain URL", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus?region=eu-west&type=L40S&limit=7";
    const body = await originText(path);

    expect((await app.get(path)).headers.get("X-Cache")).toBe("ORIGIN");
    expect(app.origin.dataCalls().map((call) => call.path)).toEqual([path]);

    const logId = await invalidate(app, ["gpus:eu-west:L40S"]);
    app.clock.advance(SYNC_INTERVAL_MS);
    // The client's own `_v` and other unknown parameters are not part of the edge's key.
    const refill = await app.get(`/v1/gpus?_v=1-0&limit=7&type=L40S&region=eu-west&utm_source=x`);

    expect(refill.status).toBe(200);
    expect(refill.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await refill.text()).toBe(body);
    expect(app.origin.dataCalls().map((call) => call.path)).toEqual([path, `${path}&_v=${logId}`]);
    expect(app.cache.stats.versionedOriginFetches).toBe(1);
    // One edge entry, under the plain key.
    expect((await app.get(path)).headers.get("X-Cache")).toBe("L1");
    expect(app.origin.dataCalls()).toHaveLength(2);
  });

  it("an entity refill carries it too, with '?'; ORIGIN_VERSION_PARAM names it, and empty turns it off", async () => {
    const named = makeTestApp({ bindingOverrides: { ORIGIN_VERSION_PARAM: "edge_v" } });
    const off = makeTestApp({ bindingOverrides: { ORIGIN_VERSION_PARAM: "" } });
    const path = "/v1/providers/prov-041";
    const apps = [named, off];
    const logIds: string[] = [];
    for (const app of apps) await app.get(path);
    for (const app of apps) logIds.push(await invalidate(app, ["provider:prov-041"]));
    for (const app of apps) {
      app.clock.advance(SYNC_INTERVAL_MS);
      // The event dropped nothing from L2 here (an entity's record stays): make this a real miss.
      await redis.del(app.keys.provider("prov-041"));
      expect((await app.get(path)).headers.get("X-Cache")).toBe("ORIGIN");
    }

    expect(named.origin.calls.map((call) => call.path)).toEqual([path, `${path}?edge_v=${logIds[0]}`]);
    expect(off.origin.calls.map((call) => call.path)).toEqual([path, path]);
    expect(off.cache.stats.versionedOriginFetches).toBe(0);
  });
});
