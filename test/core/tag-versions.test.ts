/**
 * Tag versions (core/tag-versions.ts): the newest of a lookup's versions, compared as stream
 * ids, and the origin path that carries it; how long versions live against what the CDN
 * may keep.
 */
import { describe, expect, it } from "vitest";
import {
  CDN_STALE_MARGIN_SECONDS,
  newestTagVersion,
  ORIGIN_CDN_MAX_TTL_SECONDS,
  ORIGIN_VERSION_PARAM_PATTERN,
  TAG_VERSION_TTL_SECONDS,
  versionedOriginPath,
} from "../../core/tag-versions";
import { CACHE_CONTROL } from "../../dev/origin/http";

describe("versionedOriginPath", () => {
  it("adds the version with '?' to a path without a query and with '&' to one with a query", () => {
    expect(versionedOriginPath("/v1/gpus/gpu-1", "_v", "1700000000000-0")).toBe(
      "/v1/gpus/gpu-1?_v=1700000000000-0",
    );
    expect(versionedOriginPath("/v1/gpus?region=us-east&limit=50", "_v", "17-3")).toBe(
      "/v1/gpus?region=us-east&limit=50&_v=17-3",
    );
  });

  it("adds no second separator after a bare '?' or a trailing '&'", () => {
    expect(versionedOriginPath("/v1/gpus?", "_v", "1-0")).toBe("/v1/gpus?_v=1-0");
    expect(versionedOriginPath("/v1/gpus?limit=5&", "_v", "1-0")).toBe("/v1/gpus?limit=5&_v=1-0");
  });

  it("percent-encodes the name and the value", () => {
    expect(versionedOriginPath("/x", "v ersion", "1-0&y=2")).toBe("/x?v%20ersion=1-0%26y%3D2");
  });

  it("is the path itself without a version or without a parameter (versioning off)", () => {
    expect(versionedOriginPath("/v1/gpus?limit=5", "_v", undefined)).toBe("/v1/gpus?limit=5");
    expect(versionedOriginPath("/v1/gpus?limit=5", undefined, "1-0")).toBe("/v1/gpus?limit=5");
    expect(versionedOriginPath("/v1/gpus?limit=5", "", "1-0")).toBe("/v1/gpus?limit=5");
  });

  it("parses back to the route's own parameters plus the version", () => {
    const url = new URL(
      `https://origin.test${versionedOriginPath("/v1/gpus?type=H100&sort=price", "_v", "5-1")}`,
    );
    expect([...url.searchParams]).toEqual([
      ["type", "H100"],
      ["sort", "price"],
      ["_v", "5-1"],
    ]);
  });
});

describe("newestTagVersion", () => {
  it("compares stream ids numerically, milliseconds first, then the sequence", () => {
    // As text, "9-0" > "10-0" and "5-9" > "5-10": both wrong.
    expect(newestTagVersion(["9-0", "10-0"])).toBe("10-0");
    expect(newestTagVersion(["5-10", "5-9"])).toBe("5-10");
    expect(newestTagVersion(["1700000000001-0", "1700000000000-7"])).toBe("1700000000001-0");
  });

  it("skips tags without a version and anything that is not a stream id; undefined when none is left", () => {
    expect(newestTagVersion([null, "3-0", undefined])).toBe("3-0");
    expect(newestTagVersion(["garbage", "", "12", "4-1"])).toBe("4-1");
    expect(newestTagVersion([null, undefined])).toBeUndefined();
    expect(newestTagVersion([])).toBeUndefined();
  });
});

describe("the parameter name", () => {
  it.each(["_v", "v", "edge.version", "x-v~1"])("takes %j", (name) => {
    expect(ORIGIN_VERSION_PARAM_PATTERN.test(name)).toBe(true);
  });
  it.each(["", "a b", "v=1", "v&x", "ä", "a/b", "v?"])("refuses %j", (name) => {
    expect(ORIGIN_VERSION_PARAM_PATTERN.test(name)).toBe(false);
  });
});

describe("how long a tag version lives", () => {
  const seconds = (cacheControl: string, directive: string) =>
    Number(new RegExp(`(?:^|[\\s,])${directive}=(\\d+)`).exec(cacheControl)?.[1] ?? 0);

  it("outlives the CDN's max TTL by the stale margin", () => {
    expect(TAG_VERSION_TTL_SECONDS).toBe(ORIGIN_CDN_MAX_TTL_SECONDS + CDN_STALE_MARGIN_SECONDS);
    expect(TAG_VERSION_TTL_SECONDS).toBeGreaterThan(ORIGIN_CDN_MAX_TTL_SECONDS);
  });

  it.each(Object.entries(CACHE_CONTROL))(
    "the sample origin's %s answers: what a CDN may serve past their TTL fits the margin",
    (_dataClass, cacheControl) => {
      const stale = seconds(cacheControl, "stale-while-revalidate") + seconds(cacheControl, "stale-if-error");
      expect(stale).toBeLessThan(CDN_STALE_MARGIN_SECONDS);
      expect(seconds(cacheControl, "s-maxage")).toBeLessThanOrEqual(ORIGIN_CDN_MAX_TTL_SECONDS);
    },
  );
});
