/**
 * lambdas/purge/config.ts: the CDN settings (every problem at once, each setting's range),
 * real purgers when configured, logging ones otherwise; local endpoints work end to end.
 */
import { describe, expect, it, vi } from "vitest";
import { startCloudflareFake } from "../../../dev/fakes/cloudflare-fake";
import { startCloudFrontFake } from "../../../dev/fakes/cloudfront-fake";
import { CloudflarePurger } from "../../../lambdas/purge/cloudflare-purger";
import { CloudFrontPurger } from "../../../lambdas/purge/cloudfront";
import { createPurgers, PurgeConfigError, parsePurgeSettings } from "../../../lambdas/purge/config";

describe("createPurgers", () => {
  it("gives logging purgers for unconfigured providers; the CloudFront one logs the paths", async () => {
    const info = vi.fn();
    const purgers = createPurgers(parsePurgeSettings({}), { logger: { info, warn: vi.fn() } });
    expect(purgers.configured).toEqual({ cloudflare: false, cloudfront: false, workersCache: false });
    const outcome = await purgers.cloudfront.purge(["gpu:g1", "gpus:*:*"], "evt-1");
    expect(outcome).toMatchObject({ ok: true, skipped: true, calls: 0 });
    expect(info.mock.calls[0]?.[1]).toMatchObject({ provider: "cloudfront", paths: ["/v1/gpus*"] });
    expect(await purgers.cloudflare.purge(["gpu:g1"], "evt-1")).toMatchObject({ skipped: true });
  });

  it("rejects a malformed number", () => {
    expect(() => parsePurgeSettings({ PURGE_COALESCE_WINDOW_MS: "soon" })).toThrow(PurgeConfigError);
    expect(() => parsePurgeSettings({ PURGE_COALESCE_WINDOW_MS: "soon" })).toThrow(
      /PURGE_COALESCE_WINDOW_MS/,
    );
  });

  it("builds real purgers that reach local fakes from the environment alone", async () => {
    const cloudflareFake = await startCloudflareFake({ apiToken: "t0k" });
    const cloudFrontFake = await startCloudFrontFake();
    try {
      const purgers = createPurgers(
        parsePurgeSettings({
          CLOUDFLARE_API_TOKEN: "t0k",
          CLOUDFLARE_ZONE_ID: "zone-local",
          CLOUDFLARE_BASE_URL: `${cloudflareFake.url}/client/v4`,
          CLOUDFLARE_PURGE_CHUNK_SIZE: "30",
          CLOUDFRONT_DISTRIBUTION_ID: "ELOCAL",
          CLOUDFRONT_ENDPOINT: cloudFrontFake.url,
          PURGE_COALESCE_WINDOW_MS: "0",
        }),
        { logger: { info: vi.fn(), warn: vi.fn() } },
      );
      expect(purgers.configured).toEqual({ cloudflare: true, cloudfront: true, workersCache: false });
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

describe("parsePurgeSettings", () => {
  const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
    try {
      parsePurgeSettings(env);
    } catch (error) {
      expect(error).toBeInstanceOf(PurgeConfigError);
      return (error as PurgeConfigError).problems;
    }
    throw new Error("the settings were accepted");
  };

  it("names every bad setting in one error, with the range it accepts", () => {
    const problems = problemsOf({
      CLOUDFLARE_BASE_URL: "ftp://cloudflare.local",
      CLOUDFLARE_PURGE_CHUNK_SIZE: "101",
      CLOUDFLARE_MAX_RETRIES: "-1",
      CLOUDFRONT_ENDPOINT: "not a url",
      PURGE_COALESCE_WINDOW_MS: "1.5",
    });
    expect(problems).toEqual([
      'CLOUDFLARE_BASE_URL: "ftp://cloudflare.local" is not an http(s) URL',
      'CLOUDFLARE_PURGE_CHUNK_SIZE: "101" is not an integer from 1 to 100',
      'CLOUDFLARE_MAX_RETRIES: "-1" is not an integer of at least 0',
      'CLOUDFRONT_ENDPOINT: "not a url" is not an http(s) URL',
      'PURGE_COALESCE_WINDOW_MS: "1.5" is not an integer of at least 0',
    ]);
  });

  it("takes a chunk size of 1 to 100 only: 0 is refused at parse time, not at the first purge", () => {
    expect(problemsOf({ CLOUDFLARE_PURGE_CHUNK_SIZE: "0" })).toEqual([
      'CLOUDFLARE_PURGE_CHUNK_SIZE: "0" is not an integer from 1 to 100',
    ]);
    for (const chunkSize of ["1", "100"]) {
      const settings = parsePurgeSettings({
        CLOUDFLARE_API_TOKEN: "t0k",
        CLOUDFLARE_ZONE_ID: "zone",
        CLOUDFLARE_PURGE_CHUNK_SIZE: chunkSize,
      });
      expect(settings.cloudflare?.chunkSize).toBe(Number(chunkSize));
    }
  });

  it("takes 0 where 0 means something: no SDK retries, no coalescing wait", () => {
    const settings = parsePurgeSettings({
      CLOUDFLARE_API_TOKEN: "t0k",
      CLOUDFLARE_ZONE_ID: "zone",
      CLOUDFLARE_MAX_RETRIES: "0",
      CLOUDFRONT_DISTRIBUTION_ID: "EDIST",
      PURGE_COALESCE_WINDOW_MS: "0",
    });
    expect(settings.cloudflare?.maxRetries).toBe(0);
    expect(settings.cloudfront?.coalesceWindowMs).toBe(0);
  });

  it("treats empty strings as unset, and leaves a provider with incomplete settings to log", () => {
    expect(
      parsePurgeSettings({
        CLOUDFLARE_API_TOKEN: "t0k",
        CLOUDFLARE_ZONE_ID: "",
        CLOUDFLARE_PURGE_CHUNK_SIZE: "",
        CLOUDFRONT_DISTRIBUTION_ID: "",
      }),
    ).toEqual({ cloudflare: undefined, cloudfront: undefined, workersCache: undefined });
  });

  it("never shows the API token in a problem", () => {
    const token = "not-shown-0123456789";
    const error = (() => {
      try {
        parsePurgeSettings({ CLOUDFLARE_API_TOKEN: token, CLOUDFLARE_MAX_RETRIES: "x" });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("the settings were accepted");
    })();
    expect(error.message).toContain("CLOUDFLARE_MAX_RETRIES");
    expect(error.message).not.toContain(token);
  });
});

describe("parsePurgeSettings: Workers Cache", () => {
  const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZg==";
  const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
    try {
      parsePurgeSettings(env);
    } catch (error) {
      expect(error).toBeInstanceOf(PurgeConfigError);
      return (error as PurgeConfigError).problems;
    }
    throw new Error("the settings were accepted");
  };

  it("applies the defaults: a bucket of 25, 5 a minute, a 12 s window, a 5 s minimum front TTL", () => {
    expect(
      parsePurgeSettings({
        WORKERS_CACHE_PURGE_URL: "https://edge.example.com/_cache/purge",
        WORKERS_CACHE_PURGE_SECRET: SECRET,
      }).workersCache,
    ).toEqual({
      url: "https://edge.example.com/_cache/purge",
      secret: SECRET,
      minTtlSeconds: 5,
      bucketCapacity: 25,
      bucketPerMinute: 5,
      windowMs: 12_000,
    });
    expect(parsePurgeSettings({}).workersCache).toBeUndefined();
  });

  it("names every bad setting at once, and never shows the secret", () => {
    const secret = "whsec_bad secret";
    const problems = problemsOf({
      WORKERS_CACHE_PURGE_URL: "ftp://edge",
      WORKERS_CACHE_PURGE_SECRET: secret,
      WORKERS_CACHE_PURGE_MIN_TTL_SECONDS: "-1",
      WORKERS_CACHE_BUCKET_CAPACITY: "0",
      WORKERS_CACHE_BUCKET_PER_MINUTE: "many",
      WORKERS_CACHE_PURGE_WINDOW_MS: "300001",
    });
    expect(problems).toEqual([
      'WORKERS_CACHE_PURGE_URL: "ftp://edge" is not an http(s) URL',
      "WORKERS_CACHE_PURGE_SECRET: the value given is not a secret like whsec_<base64>",
      'WORKERS_CACHE_PURGE_MIN_TTL_SECONDS: "-1" is not an integer of at least 0',
      'WORKERS_CACHE_BUCKET_CAPACITY: "0" is not an integer from 1 to 10000',
      'WORKERS_CACHE_BUCKET_PER_MINUTE: "many" is not an integer from 1 to 60000',
      'WORKERS_CACHE_PURGE_WINDOW_MS: "300001" is not an integer from 0 to 300000',
    ]);
    expect(problems.join(" ")).not.toContain("bad secret");
  });

  it("needs the secret with the URL", () => {
    expect(problemsOf({ WORKERS_CACHE_PURGE_URL: "https://edge.example.com/_cache/purge" })).toEqual([
      "WORKERS_CACHE_PURGE_SECRET: missing (required with WORKERS_CACHE_PURGE_URL)",
    ]);
  });

  it("needs Redis for the shared bucket when built", () => {
    const settings = parsePurgeSettings({
      WORKERS_CACHE_PURGE_URL: "https://edge.example.com/_cache/purge",
      WORKERS_CACHE_PURGE_SECRET: SECRET,
    });
    expect(() => createPurgers(settings)).toThrow(/needs Redis for its shared token bucket/);
  });
});
