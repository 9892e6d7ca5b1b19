/**
 * Listings from the Redis views, inside workerd: the first listing an unwarmed keyspace sees is
 * answered by the origin and warms the views after its answer; from then on, any isolate answers
 * listings from one Redis script call, equal to the origin's, without asking the origin.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../workers/app";
import { buildServices } from "../../workers/index";
import { bindings, ORIGIN_URL, originText, uniquePrefix } from "./support";

async function originListings(): Promise<number> {
  const counters = (await (await fetch(`${ORIGIN_URL}/_admin/counters`)).json()) as {
    byRoute: Record<string, number>;
  };
  return counters.byRoute["/v1/gpus"] ?? 0;
}

describe("listing views in the Worker", () => {
  it("the first listing warms the views; a new isolate then answers every listing from them, as the origin would", async () => {
    const env = { ...bindings, KEY_PREFIX: uniquePrefix(), LISTING_VIEWS: "on" };
    const isolate = () => {
      const services = buildServices(env);
      return { app: createEdgeApp(() => services), services };
    };
    const get = async (app: ReturnType<typeof isolate>["app"], path: string) => {
      const ctx = createExecutionContext();
      const response = await app.request(`http://edge.test${path}`, {}, env, ctx);
      const body = await response.text();
      await waitOnExecutionContext(ctx);
      return { response, body };
    };

    const first = isolate();
    const cold = await get(first.app, "/v1/gpus?region=us-east&limit=5");
    expect(cold.response.headers.get("X-Cache")).toBe("ORIGIN");
    expect(first.services.cache.stats.viewReads.notReady).toBe(1);

    const second = isolate();
    const paths = [
      "/v1/gpus?region=us-east&limit=5",
      "/v1/gpus?type=RTX-4090&status=available&sort=price&limit=20",
      "/v1/gpus?region=eu-west&sort=performance&limit=10",
      "/v1/gpus?status=busy",
    ];
    const listingsBefore = await originListings();
    for (const path of paths) {
      const { response, body } = await get(second.app, path);
      expect(response.headers.get("X-Cache"), path).toBe("L2");
      expect(JSON.parse(body), path).toEqual(JSON.parse(await originText(path)));
    }
    // originText asked the origin once per path; the edge asked it nothing.
    expect((await originListings()) - listingsBefore).toBe(paths.length);
    expect(second.services.cache.stats.viewReads).toEqual({
      ok: paths.length,
      notReady: 0,
      incomplete: 0,
      refreshed: 0,
    });
  });
});
