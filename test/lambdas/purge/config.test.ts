/** lambdas/purge/config.ts: real purgers when configured, logging ones otherwise; local endpoints work end to end. */
import { describe, expect, it, vi } from "vitest";
import { startCloudflareFake } from "../../../dev/fakes/cloudflare-fake";
import { startCloudFrontFake } from "../../../dev/fakes/cloudfront-fake";
import { CloudflarePurger } from "../../../lambdas/purge/cloudflare-purger";
import { CloudFrontPurger } from "../../../lambdas/purge/cloudfront-purger";
import { createPurgers } from "../../../lambdas/purge/config";

describe("createPurgers", () => {
  it("gives logging purgers for unconfigured providers; the CloudFront one logs the paths", async () => {
    const info = vi.fn();
    const purgers = createPurgers({}, { logger: { info, warn: vi.fn() } });
    expect(purgers.configured).toEqual({ cloudflare: false, cloudfront: false });
    const outcome = await purgers.cloudfront.purge(["gpu:g1", "gpus:*:*"], "evt-1");
    expect(outcome).toMatchObject({ ok: true, skipped: true, calls: 0 });
    expect(JSON.parse(String(info.mock.calls[0]?.[1]))).toMatchObject({ paths: ["/v1/gpus*"] });
    expect(await purgers.cloudflare.purge(["gpu:g1"], "evt-1")).toMatchObject({ skipped: true });
  });

  it("rejects a malformed number", () => {
    expect(() => createPurgers({ PURGE_COALESCE_WINDOW_MS: "soon" })).toThrow(RangeError);
  });

  it("builds real purgers that reach local fakes from the environment alone", async () => {
    const cloudflareFake = await startCloudflareFake({ apiToken: "t0k" });
    const cloudFrontFake = await startCloudFrontFake();
    try {
      const purgers = createPurgers(
        {
          CLOUDFLARE_API_TOKEN: "t0k",
          CLOUDFLARE_ZONE_ID: "zone-local",
          CLOUDFLARE_BASE_URL: `${cloudflareFake.url}/client/v4`,
          CLOUDFLARE_PURGE_CHUNK_SIZE: "30",
          CLOUDFRONT_DISTRIBUTION_ID: "ELOCAL",
          CLOUDFRONT_ENDPOINT: cloudFrontFake.url,
          PURGE_COALESCE_WINDOW_MS: "0",
        },
        { logger: { info: vi.fn(), warn: vi.fn() } },
      );
      expect(purgers.configured).toEqual({ cloudflare: true, cloudfront: true });
      expect(purgers.cloudflare).toBeInstanceOf(CloudflarePurger);
      expect(purgers.cloudfront).toBeInstanceOf(CloudFrontPurger);

      const tags = Array.from({ length: 40 }, (_, i) => `gpu:g${i}`);
      const [cf, front] = await Promise.all([
        purgers.cloudflare.purge(tags, "evt-2"),
        purgers.cloudfront.purge(tags, "evt-2"), // a 0 ms window: sent on the next timer tick
      ]);
      expect(cf).toMatchObject({ ok: true, calls: 2 });
      expect(front).toMatchObject({ ok: true, calls: 1 });
      expect(cloudflareFake.purges.map((purge) => purge.items.length)).toEqual([30, 10]);
      expect(cloudFrontFake.purges).toHaveLength(1);
      expect(cloudFrontFake.purges[0]?.paths).toHaveLength(40);
    } finally {
      await cloudflareFake.close();
      await cloudFrontFake.close();
    }
  });
});
