/**
 * The purge hand-off with the real SDKs against the CDN fakes: every applied event's
 * tags reach Cloudflare and its paths CloudFront, coalesced; an event whose purge
 * failed is not settled, so a re-delivery completes it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MarketplaceEvent } from "../../../core/events";
import { createKeyspace } from "../../../core/keys";
import { tagsForGpuChange } from "../../../core/tags";
import { createPurgeDispatcher } from "../../../lambdas/events/purge-dispatcher";
import { createPurgers } from "../../../lambdas/purge/config";
import {
  type CloudFrontFake,
  type CloudflareFake,
  startCloudFrontFake,
  startCloudflareFake,
} from "../../../local/cdn-fakes";
import { appliedBookings } from "../../support/applied-events";

let cloudflare: CloudflareFake;
let cloudfront: CloudFrontFake;
beforeAll(async () => {
  cloudflare = await startCloudflareFake({ apiToken: "token" });
  cloudfront = await startCloudFrontFake({});
});
afterAll(async () => {
  await cloudflare.close();
  await cloudfront.close();
});

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const _keys = createKeyspace("dispatch");

function dispatcher() {
  const purgers = createPurgers(
    {
      CLOUDFLARE_API_TOKEN: "token",
      CLOUDFLARE_ZONE_ID: "zone",
      CLOUDFLARE_BASE_URL: `${cloudflare.url}/client/v4`,
      CLOUDFLARE_MAX_RETRIES: "0",
      CLOUDFRONT_DISTRIBUTION_ID: `E${randomUUID().slice(0, 8).toUpperCase()}`,
      CLOUDFRONT_ENDPOINT: cloudfront.url,
    },
    { logger: silent },
  );
  return createPurgeDispatcher(purgers, silent);
}

describe("purge dispatcher", () => {
  it("purges every event's tags at Cloudflare and its paths at CloudFront in one coalesced invalidation", async () => {
    const results = appliedBookings(20, "dispatch");
    const before = { cloudflare: cloudflare.purges.length, cloudfront: cloudfront.purges.length };
    const { settled } = await dispatcher().dispatch(results);
    expect(settled.map((event) => event.id)).toEqual(results.map((result) => result.event.id));
    const purgedTags = cloudflare.purges.slice(before.cloudflare).flatMap((purge) => purge.items);
    for (const result of results) {
      const gpu = (result.event as Extract<MarketplaceEvent, { type: "booking.created" }>).data.gpu;
      for (const tag of tagsForGpuChange(gpu)) expect(purgedTags).toContain(tag);
    }
    const invalidations = cloudfront.purges.slice(before.cloudfront);
    expect(invalidations).toHaveLength(1);
    expect(invalidations[0]?.paths).toContain("/v1/gpus*");
  });

  it("an event whose Cloudflare purge failed is not settled (its marker stays owed)", async () => {
    const results = appliedBookings(1, "dispatch");
    cloudflare.failNext(1, "rate-limit", "0");
    expect((await dispatcher().dispatch(results)).settled).toEqual([]);
    expect((await dispatcher().dispatch(results)).settled.map((event) => event.id)).toEqual([
      results[0]?.event.id,
    ]);
  });
});
