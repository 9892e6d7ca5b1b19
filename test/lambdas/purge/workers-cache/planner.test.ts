/**
 * lambdas/purge/workers-cache/planner.ts, pure: never more calls than tokens, never more
 * than 100 entries a call, exactly one target a call, and every item covered (by tag, by a
 * route prefix, or by everything), checked by what the bodies would purge, not by the
 * planner's own bookkeeping; with no token everything is handed back.
 */
import { describe, expect, it } from "vitest";
import { orderBookTagsFor, priceTagsFor, tags, tagsForGpuChange } from "../../../../core/tags";
import {
  callsWanted,
  mergeTargets,
  type PlannedCall,
  type PurgeTargets,
  planPurgeCalls,
} from "../../../../lambdas/purge/workers-cache";
import { type AcceptedPurge, purgedBy } from "../../../support/worker-purge-endpoint";

const targets = (parts: Partial<PurgeTargets>): PurgeTargets =>
  mergeTargets([{ tags: [], pathPrefixes: [], everything: false, ...parts }]);

/** Tags of `count` GPU changes spread over 4 regions and 6 types, as a burst of bookings names them. */
function burstTags(count: number): string[] {
  const regions = ["us-east", "us-west", "eu-west", "ap-south"];
  const types = ["A100", "H100", "L40S", "RTX-4090", "A10", "T4"];
  return [
    ...new Set(
      Array.from({ length: count }, (_, index) => {
        const region = regions[index % regions.length] as string;
        const gpuType = types[index % types.length] as string;
        return [
          ...tagsForGpuChange({ gpuId: `gpu-${index}`, region, gpuType }),
          ...orderBookTagsFor(gpuType, region),
        ];
      }).flat(),
    ),
  ];
}

const bodies = (calls: readonly PlannedCall[]) => calls.map((call) => call.body as AcceptedPurge);

/** The rules every plan keeps, whatever the input. */
function expectSound(input: PurgeTargets, tokens: number, calls: readonly PlannedCall[]) {
  expect(calls.length).toBeLessThanOrEqual(tokens);
  for (const { body } of calls) {
    const targetCount = ["tags", "pathPrefixes", "purgeEverything"].filter((key) => key in body).length;
    expect(targetCount).toBe(1);
    if ("tags" in body) expect(body.tags.length).toBeLessThanOrEqual(100);
    if ("pathPrefixes" in body) {
      expect(body.pathPrefixes.length).toBeLessThanOrEqual(100);
      for (const prefix of body.pathPrefixes) expect(prefix.startsWith("/")).toBe(true);
    }
  }
  const sent = bodies(calls);
  for (const tag of input.tags) expect(purgedBy(sent, tag), `${tag} purged`).toBe(true);
  for (const prefix of input.pathPrefixes)
    expect(
      sent.some(
        (body) =>
          "purgeEverything" in body ||
          ("pathPrefixes" in body &&
            body.pathPrefixes.some(
              (sentPrefix) => prefix === sentPrefix || prefix.startsWith(`${sentPrefix}/`),
            )),
      ),
      `${prefix} purged`,
    ).toBe(true);
  // The bookkeeping agrees: what the calls say they cover is exactly the input.
  expect(mergeTargets(calls.map((call) => call.covers))).toEqual(input);
}

describe("planPurgeCalls", () => {
  it("sends tags by tag, 100 a call, when the tokens allow", () => {
    const input = targets({ tags: Array.from({ length: 250 }, (_, index) => `gpu:gpu-${index}`) });
    expect(callsWanted(input)).toBe(3);
    const plan = planPurgeCalls(input, 25);
    expect(plan.fallback).toBe("none");
    expect(plan.handedBack).toBeUndefined();
    expect(plan.calls.map(({ body }) => ("tags" in body ? body.tags.length : 0))).toEqual([100, 100, 50]);
    expectSound(input, 25, plan.calls);
  });

  it("never plans more calls than tokens, and covers everything, for any token count", () => {
    const inputs = [
      targets({ tags: burstTags(1_000) }),
      targets({ tags: [...burstTags(300), "operator:made-up", tags.reference("regions")] }),
      targets({ tags: burstTags(50), pathPrefixes: ["/v1/gpus/gpu-1", "/v1/market"] }),
      targets({ tags: Array.from({ length: 450 }, (_, index) => `custom:${index}`) }),
    ];
    for (const input of inputs)
      for (let tokens = 1; tokens <= 30; tokens++) {
        const plan = planPurgeCalls(input, tokens);
        expect(plan.handedBack).toBeUndefined();
        expectSound(input, tokens, plan.calls);
      }
  });

  it("falls back to route prefixes when the tags would not fit, and spends fewer tokens", () => {
    const input = targets({
      tags: [...burstTags(1_000), ...priceTagsFor("A100", "us-east"), tags.provider("prov-1")],
    });
    expect(callsWanted(input)).toBe(11);
    const plan = planPurgeCalls(input, 5);
    expect(plan.fallback).toBe("prefixes");
    // The listings' route prefix covers every GPU record: one call holds it all.
    expect(plan.calls.map(({ body }) => body)).toEqual([
      {
        pathPrefixes: [
          "/v1/gpus",
          "/v1/market/stats",
          ...["A10", "A100", "H100", "L40S", "RTX-4090", "T4"].map((type) => `/v1/orderbook/${type}`),
          "/v1/pricing",
          "/v1/providers/prov-1",
        ],
      },
    ]);
    expectSound(input, 5, plan.calls);
  });

  it("folds prefixes into broader ones only as far as the tokens require", () => {
    const providers = Array.from({ length: 150 }, (_, index) => tags.provider(`prov-${index}`));
    const input = targets({ tags: [...providers, tags.gpu("gpu-1"), tags.reference("regions")] });
    expect(callsWanted(input)).toBe(2);
    const plan = planPurgeCalls(input, 1);
    expect(plan.calls.map(({ body }) => body)).toEqual([
      { pathPrefixes: ["/v1/gpus/gpu-1", "/v1/providers", "/v1/regions"] },
    ]);
    expectSound(input, 1, plan.calls);
    // Tags no route carries go by tag beside the prefixes.
    const more = Array.from({ length: 250 }, (_, index) => tags.provider(`prov-${index}`));
    const mixed = targets({ tags: [...more, "custom:a", "custom:b"] });
    expect(callsWanted(mixed)).toBe(3);
    const mixedPlan = planPurgeCalls(mixed, 2);
    expect(mixedPlan.calls.map(({ body }) => body)).toEqual([
      { tags: ["custom:a", "custom:b"] },
      { pathPrefixes: ["/v1/providers"] },
    ]);
    expectSound(mixed, 2, mixedPlan.calls);
  });

  it("purges everything when tags no route carries do not fit by tag", () => {
    const input = targets({ tags: Array.from({ length: 350 }, (_, index) => `custom:${index}`) });
    const plan = planPurgeCalls(input, 3);
    expect(plan.fallback).toBe("everything");
    expect(plan.calls.map(({ body }) => body)).toEqual([{ purgeEverything: true }]);
    expectSound(input, 3, plan.calls);
  });

  it("sends an asked-for everything as one call", () => {
    const input = targets({ tags: ["gpu:a"], everything: true });
    const plan = planPurgeCalls(input, 10);
    expect(plan.calls.map(({ body }) => body)).toEqual([{ purgeEverything: true }]);
    expect(plan.calls[0]?.covers).toEqual(input);
  });

  it("sends operator prefixes as prefixes, a covered one folded into its cover", () => {
    const input = targets({ tags: [tags.gpu("g1")], pathPrefixes: ["/v1/gpus", "/v1/gpus/g2"] });
    const plan = planPurgeCalls(input, 2);
    expect(plan.calls.map(({ body }) => body)).toEqual([
      { tags: ["gpu:g1"] },
      { pathPrefixes: ["/v1/gpus"] },
    ]);
    expect(plan.calls[1]?.covers.pathPrefixes).toEqual(["/v1/gpus", "/v1/gpus/g2"]);
  });

  it("hands everything back without a token, and needs none for nothing", () => {
    const input = targets({ tags: ["gpu:a", "ref:regions"] });
    expect(planPurgeCalls(input, 0)).toEqual({ calls: [], handedBack: input, fallback: "none" });
    expect(planPurgeCalls(targets({}), 0)).toEqual({ calls: [], handedBack: undefined, fallback: "none" });
    expect(callsWanted(targets({}))).toBe(0);
  });
});
