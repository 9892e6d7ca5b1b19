import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  bookingSchema,
  type Gpu,
  gpuSchema,
  gpuTypeSchema,
  marketStatsSchema,
  orderBookSchema,
  priceSchema,
  providerSchema,
  regionSchema,
} from "../../../core/domain";
import { createOriginApp } from "../../../dev/origin/app";
import { MarketplaceStore } from "../../../dev/origin/store";
import { makeFixture, pickGpu, request } from "./helpers";

const items = <T extends z.ZodType>(schema: T) => z.strictObject({ items: z.array(schema) });
const gpuList = z.strictObject({ items: z.array(gpuSchema), total: z.number().int().nonnegative() });

const { app, store } = makeFixture();

describe("public routes answer bodies that match the domain schemas", () => {
  const cases: [string, z.ZodType][] = [
    ["/v1/gpus", gpuList],
    ["/v1/gpus/gpu-00001", gpuSchema],
    ["/v1/pricing", items(priceSchema)],
    ["/v1/pricing?type=RTX-4090&region=us-east", priceSchema],
    ["/v1/pricing?type=RTX-4090", items(priceSchema)],
    ["/v1/providers/prov-001", providerSchema],
    ["/v1/market/stats", items(marketStatsSchema)],
    ["/v1/market/stats?region=eu-west&type=L40S", marketStatsSchema],
    ["/v1/orderbook/H100-SXM", items(orderBookSchema)],
    ["/v1/orderbook/H100-SXM?region=us-west", orderBookSchema],
    ["/v1/regions", items(regionSchema)],
    ["/v1/gpu-types", items(gpuTypeSchema)],
  ];
  for (const [path, schema] of cases) {
    it(`GET ${path}`, async () => {
      const reply = await request(app, path);
      expect(reply.status).toBe(200);
      expect(reply.headers.get("Content-Type")).toBe("application/json");
      schema.parse(reply.body);
    });
  }

  it("ignores the Worker's tag-version parameter: a versioned URL answers as the plain one", async () => {
    for (const [path] of cases) {
      const plain = await request(app, path);
      const versioned = await request(app, `${path}${path.includes("?") ? "&" : "?"}_v=1700000000000-0`);
      expect(versioned.status, path).toBe(200);
      expect(versioned.body, path).toEqual(plain.body);
      expect(versioned.headers.get("ETag"), path).toBe(plain.headers.get("ETag"));
    }
  });

  it("lists every region and GPU type of the store", async () => {
    const regions = await request<{ items: unknown[] }>(app, "/v1/regions");
    const types = await request<{ items: unknown[] }>(app, "/v1/gpu-types");
    expect(regions.body.items).toEqual(store.listRegions());
    expect(types.body.items).toEqual(store.listGpuTypes());
    expect(regions.body.items.length).toBeGreaterThanOrEqual(4);
    expect(types.body.items.length).toBeGreaterThanOrEqual(6);
  });
});

describe("GET /v1/gpus filters, sorts and limits", () => {
  type List = { items: Gpu[]; total: number };

  it("defaults to 50 items in gpuId order with the full total", async () => {
    const { body } = await request<List>(app, "/v1/gpus");
    expect(body.items).toHaveLength(50);
    expect(body.total).toBe(2000);
    const ids = body.items.map((gpu) => gpu.gpuId);
    expect(ids).toEqual([...ids].sort());
  });

  it("filters by region, type and status together", async () => {
    const { body } = await request<List>(
      app,
      "/v1/gpus?region=us-west&type=A100-80GB&status=available&limit=500",
    );
    const expected = store.listGpus({ region: "us-west", gpuType: "A100-80GB", status: "available" });
    expect(body.total).toBe(expected.length);
    expect(body.items.map((gpu) => gpu.gpuId).sort()).toEqual(expected.map((gpu) => gpu.gpuId).sort());
    expect(body.items.length).toBeGreaterThan(0);
  });

  it("sorts by price ascending with gpuId breaking ties", async () => {
    const { body } = await request<List>(app, "/v1/gpus?sort=price&limit=500&type=RTX-3090");
    expect(body.items.length).toBeGreaterThan(100);
    for (let i = 1; i < body.items.length; i++) {
      const [a, b] = [body.items[i - 1] as Gpu, body.items[i] as Gpu];
      expect(
        a.pricePerHour < b.pricePerHour || (a.pricePerHour === b.pricePerHour && a.gpuId < b.gpuId),
      ).toBe(true);
    }
    const cheapest = Math.min(...store.listGpus({ gpuType: "RTX-3090" }).map((gpu) => gpu.pricePerHour));
    expect(body.items[0]?.pricePerHour).toBe(cheapest);
  });

  it("breaks price ties by gpuId even for GPUs added later", async () => {
    const fixture = makeFixture();
    const cheapest = fixture.store
      .listGpus({ gpuType: "RTX-3090", region: "us-east" })
      .sort((a, b) => a.pricePerHour - b.pricePerHour)[0];
    if (!cheapest) throw new Error("fixture");
    // Inserted last, but "a-..." sorts before every "gpu-..." id.
    fixture.store.upsertGpu({ ...cheapest, gpuId: "a-late-gpu", status: "available" });
    const { body } = await request<List>(
      fixture.app,
      "/v1/gpus?sort=price&type=RTX-3090&region=us-east&status=available&limit=2",
    );
    expect(body.items.map((gpu) => gpu.gpuId)).toEqual(["a-late-gpu", cheapest.gpuId]);
  });

  it("sorts by performance descending", async () => {
    const { body } = await request<List>(app, "/v1/gpus?sort=performance&limit=10");
    const best = Math.max(...store.listGpus().map((gpu) => gpu.performanceScore));
    expect(body.items[0]?.performanceScore).toBe(best);
    const scores = body.items.map((gpu) => gpu.performanceScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it("honours limit up to 500 and ignores empty and unknown parameters", async () => {
    expect((await request<List>(app, "/v1/gpus?limit=500")).body.items).toHaveLength(500);
    expect((await request<List>(app, "/v1/gpus?limit=3")).body.items).toHaveLength(3);
    const loose = await request<List>(app, "/v1/gpus?region=&limit=3&utm_source=x");
    expect(loose.status).toBe(200);
    expect(loose.body.total).toBe(2000);
  });

  it("answers an empty list for a region nobody is in", async () => {
    const reply = await request<List>(app, "/v1/gpus?region=mars-1");
    expect(reply.body).toEqual({ items: [], total: 0 });
    expect(reply.headers.get("X-Origin-Version")).toBe("0");
  });

  const badParams: [string, string][] = [
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=abc", "limit"],
    ["limit=2.5", "limit"],
    ["sort=cheapest", "sort"],
    ["status=idle", "status"],
    ["region=us%20east", "region"],
    ["type=RTX%2F4090", "type"],
  ];
  for (const [query, param] of badParams) {
    it(`answers 400 naming "${param}" for ?${query}`, async () => {
      const reply = await request<{ error: string }>(app, `/v1/gpus?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toContain(`"${param}"`);
      expect(reply.headers.get("Cache-Control")).toBe("no-store");
    });
  }
});

describe("lookups and 404s", () => {
  it("answers pricing, stats and order books per pair, per type or per region", async () => {
    const one = await request(app, "/v1/pricing?type=A10G&region=eu-west");
    expect(one.body).toEqual(store.getPrice("A10G", "eu-west"));
    const byRegion = await request<{ items: { region: string }[] }>(app, "/v1/pricing?region=eu-west");
    expect(byRegion.body.items).toHaveLength(store.listGpuTypes().length);
    expect(byRegion.body.items.every((price) => price.region === "eu-west")).toBe(true);
    const stats = await request<{ items: { gpuType: string }[] }>(app, "/v1/market/stats?type=L40S");
    expect(stats.body.items).toHaveLength(store.listRegions().length);
    expect(stats.body.items.every((s) => s.gpuType === "L40S")).toBe(true);
    const books = await request<{ items: { gpuType: string }[] }>(app, "/v1/orderbook/RTX-4090");
    expect(books.body.items).toHaveLength(store.listRegions().length);
    expect(books.body.items.every((book) => book.gpuType === "RTX-4090")).toBe(true);
  });

  const notFound: [string, string][] = [
    ["/v1/gpus/gpu-99999", "gpuId"],
    ["/v1/providers/prov-999", "providerId"],
    ["/v1/pricing?type=TPU-v5&region=us-east", "type"],
    ["/v1/pricing?type=A10G&region=mars-1", "region"],
    ["/v1/market/stats?type=A10G&region=mars-1", "region"],
    ["/v1/orderbook/TPU-v5", "gpuType"],
    ["/v1/orderbook/A10G?region=mars-1", "region"],
  ];
  for (const [path, field] of notFound) {
    it(`answers 404 JSON naming ${field} for ${path}`, async () => {
      const reply = await request<{ error: string }>(app, path);
      expect(reply.status).toBe(404);
      expect(reply.headers.get("Content-Type")).toBe("application/json");
      expect(reply.body.error.startsWith(`${field}: `)).toBe(true);
    });
  }

  it("answers 400 naming the path parameter for an id outside the safe alphabet", async () => {
    const reply = await request<{ error: string }>(app, "/v1/gpus/bad%20id");
    expect(reply.status).toBe(400);
    expect(reply.body.error).toContain('"gpuId"');
  });

  it("answers unknown routes and methods with 404 { error: 'Not found' }", async () => {
    for (const [path, method] of [
      ["/v1/nope", "GET"],
      ["/", "GET"],
      ["/v1/gpus", "POST"],
    ] as const) {
      const reply = await request(app, path, { method });
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ error: "Not found" });
    }
  });

  it("answers 500 JSON for an unexpected error and reports it", async () => {
    class BrokenStore extends MarketplaceStore {
      override listRegions(): never {
        throw new Error("disk on fire");
      }
    }
    const reported: unknown[] = [];
    const broken = createOriginApp({
      store: new BrokenStore({ gpuCount: 5, providerCount: 1 }),
      onUnexpectedError: (error) => reported.push(error),
    });
    const reply = await request(broken, "/v1/regions");
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ error: "Internal server error" });
    expect(reported).toHaveLength(1);
    expect(String(reported[0])).toContain("disk on fire");
  });
});

describe("caching headers", () => {
  const classes: [string, string][] = [
    ["/v1/gpus", "public, max-age=0, s-maxage=5, stale-while-revalidate=5, stale-if-error=60"],
    ["/v1/pricing?type=A10G&region=us-east", "public, max-age=10, s-maxage=30, stale-if-error=300"],
    ["/v1/pricing", "public, max-age=10, s-maxage=30, stale-if-error=300"],
    ["/v1/gpus/gpu-00002", "public, max-age=30, s-maxage=60, stale-if-error=600"],
    ["/v1/providers/prov-002", "public, max-age=10, s-maxage=30, stale-if-error=300"],
    ["/v1/market/stats", "public, max-age=5, s-maxage=10, stale-if-error=300"],
    ["/v1/orderbook/L40S", "public, max-age=0, s-maxage=2, stale-if-error=30"],
    ["/v1/regions", "public, max-age=300, s-maxage=3600, stale-if-error=86400"],
    ["/v1/gpu-types", "public, max-age=300, s-maxage=3600, stale-if-error=86400"],
  ];
  for (const [path, cacheControl] of classes) {
    it(`sends Cache-Control "${cacheControl}" for ${path}`, async () => {
      const reply = await request(app, path);
      expect(reply.headers.get("Cache-Control")).toBe(cacheControl);
    });
  }

  it("sends a strong ETag that is the SHA-256 of the exact body", async () => {
    const reply = await request(app, "/v1/gpus/gpu-00003");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(reply.text)),
    );
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(reply.headers.get("ETag")).toBe(`"${hex.slice(0, 32)}"`);
  });

  it("answers If-None-Match with 304, no body and the same validators", async () => {
    const first = await request(app, "/v1/market/stats?region=us-east&type=A10G");
    const etag = first.headers.get("ETag") ?? "";
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const again = await app.request("/v1/market/stats?region=us-east&type=A10G", {
        headers: { "If-None-Match": ifNoneMatch },
      });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("ETag")).toBe(etag);
      expect(again.headers.get("Cache-Control")).toBe(first.headers.get("Cache-Control"));
      expect(again.headers.get("X-Origin-Version")).toBe(first.headers.get("X-Origin-Version"));
    }
    const stale = await request(app, "/v1/market/stats?region=us-east&type=A10G", {
      headers: { "If-None-Match": '"not-it"' },
    });
    expect(stale.status).toBe(200);
  });

  it("changes the ETag and the version header when the entity changes", async () => {
    const fixture = makeFixture();
    const gpu = pickGpu(fixture.store.listGpus(), (g) => g.status === "available");
    const before = await request(fixture.app, `/v1/gpus/${gpu.gpuId}`);
    expect(before.headers.get("X-Origin-Version")).toBe(String(gpu.version));
    fixture.store.setGpuStatus(gpu.gpuId, "offline");
    const after = await request(fixture.app, `/v1/gpus/${gpu.gpuId}`, {
      headers: { "If-None-Match": before.headers.get("ETag") ?? "" },
    });
    expect(after.status).toBe(200);
    expect(after.headers.get("ETag")).not.toBe(before.headers.get("ETag"));
    expect(after.headers.get("X-Origin-Version")).toBe(String(gpu.version + 1));
  });

  it("gives byte-identical bodies and ETags on two origins built from the same seed", async () => {
    const other = makeFixture();
    const a = await request(app, "/v1/gpus?sort=price&limit=100");
    const b = await request(other.app, "/v1/gpus?sort=price&limit=100");
    expect(b.text).toBe(a.text);
    expect(b.headers.get("ETag")).toBe(a.headers.get("ETag"));
  });

  it("sends the highest item version as X-Origin-Version for lists", async () => {
    const fixture = makeFixture();
    fixture.store.setPrice("L40S", "us-west", 9.99);
    fixture.store.setPrice("L40S", "us-west", 8.88);
    const list = await request(fixture.app, "/v1/pricing?type=L40S");
    expect(list.headers.get("X-Origin-Version")).toBe("3");
    const regions = await request(fixture.app, "/v1/regions");
    expect(regions.headers.get("X-Origin-Version")).toBeNull();
  });
});

describe("GET /v1/bookings (private)", () => {
  it("requires a Bearer token", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer " },
      { Authorization: "Basic abc" },
    ];
    for (const headers of attempts) {
      const reply = await request<{ error: string }>(app, "/v1/bookings", { headers });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toMatch(/Authorization/);
      expect(reply.headers.get("Set-Cookie")).toBeNull();
    }
  });

  it("answers privately with a session cookie and the user's bookings", async () => {
    const userId = store.listBookings()[0]?.userId ?? "";
    const reply = await request<{ items: unknown[]; total: number }>(app, `/v1/bookings?userId=${userId}`, {
      headers: { Authorization: "Bearer user-token" },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("Cache-Control")).toBe("private, no-store");
    expect(reply.headers.get("Set-Cookie")).toMatch(/^session=[0-9a-f]+;/);
    expect(reply.headers.get("ETag")).toBeNull();
    const bookings = z.array(bookingSchema).parse(reply.body.items);
    expect(bookings.length).toBeGreaterThan(0);
    expect(bookings.every((booking) => booking.userId === userId)).toBe(true);
    expect(reply.body.total).toBe(store.listBookings({ userId }).length);
  });
});
