/**
 * Configuration that decides cache behaviour: data-class policy overrides
 * (core/data-classes.ts) and the Worker's settings (workers/config.ts). Both report
 * every problem at once, so an operator fixes a bad deployment in one go.
 */
import { describe, expect, it } from "vitest";
import { applyPolicyOverrides, DATA_CLASS_NAMES, DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import { parseWorkerConfig, WorkerConfigError } from "../../workers/config";

describe("applyPolicyOverrides", () => {
  it("returns the defaults for no overrides", () => {
    for (const overrides of [undefined, null, {}]) {
      const { policies, problems } = applyPolicyOverrides(overrides);
      expect(problems).toEqual([]);
      expect(policies).toEqual(DEFAULT_DATA_CLASS_POLICIES);
    }
  });

  it("merges valid settings field by field and leaves the base untouched", () => {
    const before = structuredClone(DEFAULT_DATA_CLASS_POLICIES);
    const { policies, problems } = applyPolicyOverrides({
      availability: { l1FreshMs: 2_000, staleIfErrorMs: 0 },
      reference: { l2TtlSeconds: 60, browserMaxAgeSeconds: 0 },
    });
    expect(problems).toEqual([]);
    expect(policies.availability).toEqual({
      ...DEFAULT_DATA_CLASS_POLICIES.availability,
      l1FreshMs: 2_000,
      staleIfErrorMs: 0,
    });
    expect(policies.reference).toEqual({
      ...DEFAULT_DATA_CLASS_POLICIES.reference,
      l2TtlSeconds: 60,
      browserMaxAgeSeconds: 0,
    });
    expect(policies.gpu).toEqual(DEFAULT_DATA_CLASS_POLICIES.gpu);
    expect(DEFAULT_DATA_CLASS_POLICIES).toEqual(before);
  });

  it("merges onto a given base", () => {
    const base = {
      ...DEFAULT_DATA_CLASS_POLICIES,
      gpu: { ...DEFAULT_DATA_CLASS_POLICIES.gpu, l1FreshMs: 1 },
    };
    const { policies } = applyPolicyOverrides({ gpu: { l1MaxMs: 10 } }, base);
    expect(policies.gpu).toMatchObject({ l1FreshMs: 1, l1MaxMs: 10 });
  });

  it("lists every problem together", () => {
    const { problems } = applyPolicyOverrides({
      nope: {},
      gpu: 5,
      "order-book": [1],
      pricing: { l1FreshMs: -1, bogus: 1, l1MaxMs: "10", staleIfErrorMs: Number.POSITIVE_INFINITY },
      provider: { l1FreshMs: 90_000, l1MaxMs: 1_000 },
      availability: { l1FreshMs: 1_000 },
    });
    expect(problems).toEqual([
      `unknown data class 'nope' (known: ${DATA_CLASS_NAMES.join(", ")})`,
      "gpu: must be an object",
      "order-book: must be an object",
      "pricing.l1FreshMs: must be a non-negative number",
      expect.stringMatching(/^pricing\.bogus: unknown setting \(known: l1FreshMs, l1MaxMs, /),
      "pricing.l1MaxMs: must be a non-negative number",
      "pricing.staleIfErrorMs: must be a non-negative number",
      "provider: l1FreshMs must not exceed l1MaxMs",
    ]);
  });

  it("refuses a non-object as a whole", () => {
    for (const overrides of [[], "x", 3, true]) {
      expect(applyPolicyOverrides(overrides).problems).toEqual([
        "must be a JSON object of data class → settings",
      ]);
    }
  });

  it("checks fresh ≤ max against the merged values, not just the given ones", () => {
    expect(
      applyPolicyOverrides({ gpu: { l1FreshMs: DEFAULT_DATA_CLASS_POLICIES.gpu.l1MaxMs + 1 } }).problems,
    ).toEqual(["gpu: l1FreshMs must not exceed l1MaxMs"]);
    expect(applyPolicyOverrides({ gpu: { l1MaxMs: 0 } }).problems).toEqual([
      "gpu: l1FreshMs must not exceed l1MaxMs",
    ]);
  });
});

describe("parseWorkerConfig", () => {
  const required = {
    UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: "secret-token",
    ORIGIN_URL: "https://api.example.com/",
  };

  it("applies defaults and trims the origin's trailing slash", () => {
    expect(parseWorkerConfig(required)).toEqual({
      redisUrl: "https://eu1-fine-cat.upstash.io",
      redisToken: "secret-token",
      originUrl: "https://api.example.com",
      keyPrefix: "ec",
      syncIntervalMs: 500,
      l1MaxBytes: 32 * 1024 * 1024,
      l1MaxEntries: 50_000,
      negativeCacheMs: 5_000,
      negativeCacheMaxBytes: 1024 * 1024,
      lookupMemoMaxBytes: 4 * 1024 * 1024,
      pendingWorkMaxBytes: 1024 * 1024,
      l2SoftTimeoutMs: 50,
      l2HardTimeoutMs: 1_000,
      originTimeoutMs: 5_000,
      originVersionParam: "_v",
      policies: DEFAULT_DATA_CLASS_POLICIES,
      listingViews: "on",
      operatorToken: undefined,
    });
  });

  it("reads numbers from strings, treats empty strings as unset, and merges CACHE_POLICIES", () => {
    const config = parseWorkerConfig({
      ...required,
      KEY_PREFIX: "",
      L1_SYNC_INTERVAL_MS: "250",
      L2_SOFT_TIMEOUT_MS: "20",
      L2_HARD_TIMEOUT_MS: "80",
      OPERATOR_TOKEN: "a-long-operator-token",
      CACHE_POLICIES: JSON.stringify({ availability: { l1FreshMs: 1_000 } }),
    });
    expect(config).toMatchObject({
      keyPrefix: "ec",
      syncIntervalMs: 250,
      l2SoftTimeoutMs: 20,
      l2HardTimeoutMs: 80,
      operatorToken: "a-long-operator-token",
    });
    expect(config.policies.availability.l1FreshMs).toBe(1_000);
    expect(config.policies.pricing).toEqual(DEFAULT_DATA_CLASS_POLICIES.pricing);
  });

  it("fails once, naming every bad field", () => {
    let caught: unknown;
    try {
      parseWorkerConfig({
        UPSTASH_REDIS_REST_URL: "ftp://redis.example.com",
        ORIGIN_URL: "not a url",
        KEY_PREFIX: "bad prefix!",
        L1_SYNC_INTERVAL_MS: "-5",
        L1_MAX_ENTRIES: "1.5",
        L2_HARD_TIMEOUT_MS: "abc",
        OPERATOR_TOKEN: "short",
        CACHE_POLICIES: JSON.stringify({ pricing: { l1FreshMs: -1 }, nope: {} }),
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WorkerConfigError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^invalid Worker configuration: /);
    for (const field of [
      "UPSTASH_REDIS_REST_URL:",
      "UPSTASH_REDIS_REST_TOKEN:",
      "ORIGIN_URL:",
      "KEY_PREFIX:",
      "L1_SYNC_INTERVAL_MS:",
      "L1_MAX_ENTRIES:",
      "L2_HARD_TIMEOUT_MS:",
      "OPERATOR_TOKEN:",
      "CACHE_POLICIES: pricing.l1FreshMs: must be a non-negative number",
      "CACHE_POLICIES: unknown data class 'nope'",
    ]) {
      expect(message).toContain(field);
    }
  });

  it("reports CACHE_POLICIES that is not JSON, or not an object, beside other problems", () => {
    expect(() => parseWorkerConfig({ ...required, CACHE_POLICIES: "{availability:" })).toThrow(
      /CACHE_POLICIES: not valid JSON/,
    );
    expect(() => parseWorkerConfig({ ...required, CACHE_POLICIES: "[1,2]" })).toThrow(
      /CACHE_POLICIES: must be a JSON object/,
    );
    expect(() =>
      parseWorkerConfig({ ...required, ORIGIN_URL: undefined, CACHE_POLICIES: '{"nope":{}}' }),
    ).toThrow(/ORIGIN_URL: .*; CACHE_POLICIES: unknown data class 'nope'/);
  });

  it("ORIGIN_VERSION_PARAM: `_v` when unset, off when empty, else a query parameter name no route reads", () => {
    expect(parseWorkerConfig({ ...required, ORIGIN_VERSION_PARAM: "" }).originVersionParam).toBeUndefined();
    expect(parseWorkerConfig({ ...required, ORIGIN_VERSION_PARAM: "edge.v" }).originVersionParam).toBe(
      "edge.v",
    );
    for (const bad of ["a b", "v=1", "v&w", "limit", "region"]) {
      expect(() => parseWorkerConfig({ ...required, ORIGIN_VERSION_PARAM: bad }), bad).toThrow(
        /ORIGIN_VERSION_PARAM: .* is not letters, digits, .*none of region, type, status, sort, limit/,
      );
    }
  });

  it("NEGATIVE_CACHE_MS: 0 to 60000 (0 keeps no 404); the byte budgets positive; every bad one named", () => {
    expect(parseWorkerConfig({ ...required, NEGATIVE_CACHE_MS: "0" }).negativeCacheMs).toBe(0);
    expect(parseWorkerConfig({ ...required, NEGATIVE_CACHE_MS: "60000" }).negativeCacheMs).toBe(60_000);
    expect(
      parseWorkerConfig({
        ...required,
        NEGATIVE_CACHE_MAX_BYTES: "4096",
        LOOKUP_MEMO_MAX_BYTES: "65536",
        PENDING_WORK_MAX_BYTES: "8192",
      }),
    ).toMatchObject({ negativeCacheMaxBytes: 4096, lookupMemoMaxBytes: 65_536, pendingWorkMaxBytes: 8192 });
    let message = "";
    try {
      parseWorkerConfig({
        ...required,
        NEGATIVE_CACHE_MS: "60001",
        NEGATIVE_CACHE_MAX_BYTES: "0",
        LOOKUP_MEMO_MAX_BYTES: "lots",
        PENDING_WORK_MAX_BYTES: "-1",
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of [
      "NEGATIVE_CACHE_MS: ",
      "NEGATIVE_CACHE_MAX_BYTES: ",
      "LOOKUP_MEMO_MAX_BYTES: ",
      "PENDING_WORK_MAX_BYTES: ",
    ]) {
      expect(message).toContain(field);
    }
  });

  it("refuses byte budgets that add up to more than an isolate can spare, with the other problems", () => {
    expect(() =>
      parseWorkerConfig({
        ...required,
        L1_MAX_BYTES: String(90 * 1024 * 1024),
        LOOKUP_MEMO_MAX_BYTES: "4194304",
      }),
    ).toThrow(
      /L1_MAX_BYTES, NEGATIVE_CACHE_MAX_BYTES, LOOKUP_MEMO_MAX_BYTES and 2 × PENDING_WORK_MAX_BYTES: 99\.0 MiB .* 96 MiB/,
    );
    expect(() =>
      parseWorkerConfig({ ...required, ORIGIN_URL: "nope", L1_MAX_BYTES: String(100 * 1024 * 1024) }),
    ).toThrow(/ORIGIN_URL: .*; L1_MAX_BYTES, NEGATIVE_CACHE_MAX_BYTES/);
    // The defaults fit, with room.
    expect(parseWorkerConfig({ ...required, L1_MAX_BYTES: String(80 * 1024 * 1024) }).l1MaxBytes).toBe(
      80 * 1024 * 1024,
    );
  });

  it("refuses a soft L2 timeout longer than the hard one", () => {
    expect(() =>
      parseWorkerConfig({ ...required, L2_SOFT_TIMEOUT_MS: "500", L2_HARD_TIMEOUT_MS: "100" }),
    ).toThrow(/L2_SOFT_TIMEOUT_MS:? must not exceed L2_HARD_TIMEOUT_MS/);
  });
});
