/**
 * The purge-call audit: every request to a purge endpoint, of every provider, is one line
 * (provider, batch key, target count, outcome, latency) and PurgeCalls / PurgeTargets /
 * PurgeCallsFailed per provider. The purgers are the real ones, built by createPurgers,
 * against the local Cloudflare and CloudFront fakes and a stand-in for the Worker's endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CloudFrontFake,
  type CloudflareFake,
  startCloudFrontFake,
  startCloudflareFake,
} from "../../../dev/fakes";
import { createPurgers, parsePurgeSettings } from "../../../lambdas/purge/config";
import { PURGE_CALL_AUDIT, purgeCallAudit } from "../../../lambdas/purge/purge-audit";
import type { TokenBucket } from "../../../lambdas/purge/workers-cache";
import { ManualClock } from "../../support/manual-clock";
import { type PurgeEndpoint, startPurgeEndpoint } from "../../support/worker-purge-endpoint";
import { recordingLogger, recordingMetrics } from "../shared/recording";

const SECRET = "whsec_cHVyZ2UtYXVkaXQtc2VjcmV0LWZvci10ZXN0cw==";

/** A bucket that always grants: the bucket itself is tested in workers-cache/. */
const generous: TokenBucket = {
  take: async (count) => ({ granted: count, remaining: 25, nextTokenAt: 0 }),
  refund: async () => {},
};

let cloudflare: CloudflareFake;
let cloudfront: CloudFrontFake;
let endpoint: PurgeEndpoint;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  cloudflare = await startCloudflareFake({ apiToken: "t0k", retryAfter: "0" });
  cloudfront = await startCloudFrontFake();
  endpoint = await startPurgeEndpoint({ secret: SECRET, now: clock.now });
});
afterAll(async () => {
  await Promise.all([cloudflare.close(), cloudfront.close(), endpoint.close()]);
});

function audited() {
  const { lines, logger } = recordingLogger();
  const recording = recordingMetrics();
  const purgers = createPurgers(
    parsePurgeSettings({
      CLOUDFLARE_API_TOKEN: "t0k",
      CLOUDFLARE_ZONE_ID: "zone-audit",
      CLOUDFLARE_BASE_URL: `${cloudflare.url}/client/v4`,
      CLOUDFLARE_PURGE_CHUNK_SIZE: "30",
      CLOUDFLARE_MAX_RETRIES: "0",
      CLOUDFRONT_DISTRIBUTION_ID: "EAUDIT",
      CLOUDFRONT_ENDPOINT: cloudfront.url,
      PURGE_COALESCE_WINDOW_MS: "0",
      WORKERS_CACHE_PURGE_URL: endpoint.url,
      WORKERS_CACHE_PURGE_SECRET: SECRET,
      // Every tag is worth a Workers Cache purge here.
      WORKERS_CACHE_PURGE_MIN_TTL_SECONDS: "0",
    }),
    {
      logger,
      metrics: recording.metrics,
      workersCache: { bucket: generous, clock },
      cloudFront: { sleep: async () => {} },
    },
  );
  const audit = () => lines.filter((line) => line.fields.audit === PURGE_CALL_AUDIT);
  return { purgers, audit, recording };
}

describe("purge-call audit", () => {
  it("one line and the metrics per call, for every provider", async () => {
    const { purgers, audit, recording } = audited();
    const tags = Array.from({ length: 40 }, (_, index) => `gpu:audit-${index}`);
    await Promise.all([
      purgers.cloudflare.purge(tags, "evt-a"),
      purgers.cloudfront.purge(tags, "evt-a"),
      purgers.workersCache.purge(tags, "evt-a"),
    ]);

    const lines = audit();
    const of = (provider: string) => lines.filter((line) => line.fields.provider === provider);
    // Cloudflare: 30 tags a call; CloudFront: one invalidation of the 40 paths; Workers Cache: one call of 40 tags.
    expect(of("cloudflare").map((line) => line.fields.targets)).toEqual([30, 10]);
    expect(of("cloudfront").map((line) => line.fields.targets)).toEqual([40]);
    expect(of("workers-cache").map((line) => line.fields.targets)).toEqual([40]);
    for (const line of lines)
      expect(line).toMatchObject({
        level: "info",
        message: "purge call",
        fields: { batchKey: "evt-a", outcome: "accepted", latencyMs: expect.any(Number) },
      });
    expect(of("cloudfront")[0]?.fields.id).toEqual(expect.any(String));
    // Targets only, never the tags themselves: an event's purge can name hundreds.
    for (const line of lines) expect(line.text).not.toContain("gpu:audit-");

    expect(recording.total("PurgeCalls", { provider: "cloudflare" })).toBe(2);
    expect(recording.total("PurgeCalls", { provider: "cloudfront" })).toBe(1);
    expect(recording.total("PurgeCalls", { provider: "workers-cache" })).toBe(1);
    expect(recording.total("PurgeTargets", { provider: "cloudflare" })).toBe(40);
    expect(recording.total("PurgeTargets", { provider: "cloudfront" })).toBe(40);
    expect(recording.total("PurgeCallsFailed")).toBe(0);
  });

  it("a failed call is a warning with the error, and PurgeCallsFailed", async () => {
    const { purgers, audit, recording } = audited();
    cloudflare.failNext(1, "rate-limit", "0");
    endpoint.refuseNext(1, 503);
    const [cf, wc] = await Promise.all([
      purgers.cloudflare.purge(["gpu:fail-1"], "evt-f"),
      purgers.workersCache.purge(["gpu:fail-2"], "evt-f"),
    ]);
    expect(cf.ok).toBe(false);
    expect(wc.ok).toBe(false);
    expect(
      audit().map((line) => [line.level, line.message, line.fields.provider, line.fields.outcome]),
    ).toEqual(
      expect.arrayContaining([
        ["warn", "purge call failed", "cloudflare", "failed"],
        ["warn", "purge call failed", "workers-cache", "failed"],
      ]),
    );
    expect(audit().find((line) => line.fields.provider === "workers-cache")?.fields.error).toMatch(
      /HTTP 503/,
    );
    expect(recording.total("PurgeCallsFailed", { provider: "cloudflare" })).toBe(1);
    expect(recording.total("PurgeCallsFailed", { provider: "workers-cache" })).toBe(1);
    expect(recording.total("PurgeCalls")).toBe(2);
  });

  it("a replay from the retry queue is audited the same way, under its batch key", async () => {
    const { purgers, audit } = audited();
    await purgers.cloudfront.retry({
      provider: "cloudfront",
      distributionId: "EAUDIT",
      paths: ["/v1/gpus*", "/v1/regions"],
      batchKey: "batch:abc",
    });
    expect(audit()).toMatchObject([
      { fields: { provider: "cloudfront", batchKey: "batch:abc", targets: 2, outcome: "accepted" } },
    ]);
  });

  it("purgeCallAudit alone: an accepted call without an id or error names neither", () => {
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    purgeCallAudit(
      logger,
      recording.metrics,
    )({
      provider: "workers-cache",
      batchKey: "evt-x",
      targets: 0,
      ok: true,
      latencyMs: 7,
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        fields: {
          audit: "purge-call",
          provider: "workers-cache",
          batchKey: "evt-x",
          targets: 0,
          outcome: "accepted",
          latencyMs: 7,
        },
      }),
    ]);
    expect(recording.recorded).toEqual([
      { name: "PurgeCalls", value: 1, dimensions: { provider: "workers-cache" } },
      { name: "PurgeTargets", value: 0, dimensions: { provider: "workers-cache" } },
    ]);
  });
});
