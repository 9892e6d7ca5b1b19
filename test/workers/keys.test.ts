/**
 * Normalised cache keys (docs/architecture.md "Edge HTTP API"): only declared parameters count, in a
 * fixed order; unknown ones can neither bust nor poison the cache.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { edgeGet, keysUnder, makeTestApp, originCount, originText } from "./support";

describe("cache keys (real Worker)", () => {
  it("unknown and reordered parameters hit the same entry; the origin is not asked again", async () => {
    const originPath = "/v1/orderbook/L40S";
    const body = await originText(`${originPath}?region=us-west`);
    const otherBody = await originText(`${originPath}?region=ap-southeast`);
    const asked = await originCount(originPath);

    const first = await edgeGet(`${originPath}?region=us-west`);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await first.text()).toBe(body);
    for (const variant of [
      `${originPath}?utm_source=mail&region=us-west`,
      `${originPath}?region=us-west&cachebuster=${crypto.randomUUID()}`,
      `${originPath}?region=us-west&region=eu-west`,
    ]) {
      const response = await edgeGet(variant);
      expect(response.headers.get("X-Cache"), variant).toBe("L1");
      expect(await response.text()).toBe(body);
    }
    expect(await originCount(originPath)).toBe(asked + 1);

    // A different declared value is a different entry.
    const other = await edgeGet(`${originPath}?region=ap-southeast&utm_source=mail`);
    expect(other.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await other.text()).toBe(otherBody);
    expect(await originCount(originPath)).toBe(asked + 2);
  });

  it("listing parameters in any order, with unknown extras, share one entry; other values do not", async () => {
    const canonical = "/v1/gpus?region=ap-southeast&type=A10G&status=available&sort=performance&limit=7";
    const first = await edgeGet(canonical);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    const body = await first.text();
    expect(body).toBe(await originText(canonical));

    const reordered = await edgeGet(
      "/v1/gpus?limit=7&foo=bar&sort=performance&status=available&type=A10G&region=ap-southeast",
    );
    expect(reordered.headers.get("X-Cache")).toBe("L1");
    expect(await reordered.text()).toBe(body);

    for (const different of [
      "/v1/gpus?region=ap-southeast&type=A10G&status=busy&sort=performance&limit=7",
      "/v1/gpus?region=ap-southeast&type=A10G&status=available&sort=price&limit=7",
      "/v1/gpus?region=ap-southeast&type=A10G&status=available&sort=performance&limit=8",
      "/v1/gpus?region=ap-southeast&type=A10G&status=available&limit=7",
    ]) {
      const response = await edgeGet(different);
      expect(response.headers.get("X-Cache"), different).toBe("ORIGIN");
      expect(await response.text()).toBe(await originText(different));
    }
  });

  it("?limit=50 and no limit share one entry", async () => {
    const first = await edgeGet("/v1/gpus?region=us-west&type=A100-80GB");
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    const withLimit = await edgeGet("/v1/gpus?type=A100-80GB&limit=50&region=us-west");
    expect(withLimit.headers.get("X-Cache")).toBe("L1");
    expect(await withLimit.text()).toBe(await first.text());
  });
});

describe("cache keys (app instance, counted origin)", () => {
  it("the origin is asked for the normalised path only: unknown parameters never reach it", async () => {
    const app = makeTestApp();
    const response = await app.get("/v1/gpus?sort=price&zzz=<script>&type=RTX-3090&region=us-east");
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Cache")).toBe("ORIGIN");
    expect(app.origin.dataCalls().map((call) => call.path)).toEqual([
      "/v1/gpus?region=us-east&type=RTX-3090&sort=price&limit=50",
    ]);
    expect(await response.text()).toBe(await originText("/v1/gpus?region=us-east&type=RTX-3090&sort=price"));

    expect(
      (await app.get("/v1/gpus?region=us-east&type=RTX-3090&sort=price&limit=50")).headers.get("X-Cache"),
    ).toBe("L1");
    expect(app.origin.dataCalls()).toHaveLength(1);
    // L2 holds the answer under the normalised key only (plus its tag index, and the reference
    // lists the region and type were checked against), nothing named after `zzz`.
    const responseKey = app.keys.response("/v1/gpus?region=us-east&type=RTX-3090&sort=price&limit=50");
    expect((await keysUnder(app.keys)).sort()).toEqual(
      [
        responseKey,
        app.keys.tagIndex("gpus:us-east:RTX-3090"),
        app.keys.reference("regions"),
        app.keys.reference("gpu-types"),
      ].sort(),
    );
  });

  it("pricing and market-stats pairs ignore parameter order", async () => {
    const app = makeTestApp();
    for (const [a, b] of [
      ["/v1/pricing?type=RTX-4090&region=eu-west", "/v1/pricing?region=eu-west&x=1&type=RTX-4090"],
      ["/v1/market/stats?region=eu-west&type=H100-SXM", "/v1/market/stats?type=H100-SXM&region=eu-west"],
    ] as const) {
      expect((await app.get(a)).headers.get("X-Cache")).toBe("ORIGIN");
      expect((await app.get(b)).headers.get("X-Cache")).toBe("L1");
    }
    expect(app.origin.dataCalls()).toHaveLength(2);
  });

  it("an empty parameter (as a browser form sends it) means no filter, as on the origin", async () => {
    const app = makeTestApp();
    const plain = await app.get("/v1/gpus?type=RTX-3090");
    expect(plain.status).toBe(200);
    const withEmpty = await app.get("/v1/gpus?region=&type=RTX-3090&status=&limit=");
    expect(withEmpty.status).toBe(200);
    expect(withEmpty.headers.get("X-Cache")).toBe("L1");
    expect(await withEmpty.text()).toBe(await plain.text());
    expect(await originText("/v1/gpus?region=&type=RTX-3090&status=&limit=")).toBe(
      await originText("/v1/gpus?type=RTX-3090"),
    );
    expect(app.origin.dataCalls()).toHaveLength(1);
  });
});
