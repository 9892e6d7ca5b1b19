import { describe, expect, it } from "vitest";
import {
  type Booking,
  bookingSchema,
  type Gpu,
  gpuSchema,
  type MarketStats,
  marketStatsSchema,
  type OrderBook,
  type Price,
  type Provider,
  providerSchema,
} from "../../../core/domain";
import type { OriginCounters } from "../../../dev/origin/app";
import { ManualClock } from "../../support/manual-clock";
import { recordingSleep } from "../../support/recording-sleep";
import { admin, makeFixture, must, pickGpu, request } from "./helpers";

type BookingReply = { booking: Booking; gpu: Gpu; marketStats: MarketStats[] };

describe("admin mutations over HTTP", () => {
  it("POST /_admin/bookings books a GPU; reads and stats follow; versions move by one", async () => {
    const { app, store, clock } = makeFixture();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const statsPath = `/v1/market/stats?region=${gpu.region}&type=${gpu.gpuType}`;
    const statsBefore = (await request<MarketStats>(app, statsPath)).body;
    const at = clock.advance(30_000);

    const reply = await admin<BookingReply>(app, "POST", "/_admin/bookings", {
      gpuId: gpu.gpuId,
      userId: "user-42",
      startsAt: "2026-11-06T00:00:00Z",
      endsAt: "2026-11-06T04:00:00Z",
    });

    expect(reply.status).toBe(200);
    expect(bookingSchema.parse(reply.body.booking)).toMatchObject({ gpuId: gpu.gpuId, status: "confirmed" });
    expect(gpuSchema.parse(reply.body.gpu)).toMatchObject({
      status: "busy",
      version: gpu.version + 1,
      updatedAt: at,
    });
    const read = await request<Gpu>(app, `/v1/gpus/${gpu.gpuId}`);
    expect(read.body).toEqual(reply.body.gpu);
    const statsAfter = marketStatsSchema.parse((await request(app, statsPath)).body);
    expect(statsAfter.availableCount).toBe(statsBefore.availableCount - 1);
    expect(statsAfter.busyCount).toBe(statsBefore.busyCount + 1);
    expect(statsAfter.version).toBe(statsBefore.version + 1);
    expect(reply.body.marketStats).toEqual([statsAfter]);

    const again = await admin<{ error: string }>(app, "POST", "/_admin/bookings", {
      gpuId: gpu.gpuId,
      userId: "u",
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/^gpuId: /);
  });

  it("POST /_admin/bookings/:id/cancel frees the GPU; 404 unknown, 409 twice", async () => {
    const { app, store } = makeFixture();
    const booking = must(store.listBookings().find((b) => b.status === "confirmed"));
    const gpu = must(store.getGpu(booking.gpuId));
    const reply = await admin<BookingReply>(app, "POST", `/_admin/bookings/${booking.bookingId}/cancel`);
    expect(reply.status).toBe(200);
    expect(reply.body.booking.status).toBe("cancelled");
    expect(reply.body.gpu).toMatchObject({ status: "available", version: gpu.version + 1 });
    expect((await admin(app, "POST", `/_admin/bookings/${booking.bookingId}/cancel`)).status).toBe(409);
    expect((await admin(app, "POST", "/_admin/bookings/bk-nope/cancel")).status).toBe(404);
  });

  it("POST /_admin/gpus/:id/status changes status; 400 names the bad field", async () => {
    const { app, store } = makeFixture();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const reply = await admin<{ gpu: Gpu }>(app, "POST", `/_admin/gpus/${gpu.gpuId}/status`, {
      status: "offline",
    });
    expect(reply.status).toBe(200);
    expect(reply.body.gpu).toMatchObject({ status: "offline", version: gpu.version + 1 });
    const bad = await admin<{ error: string; issues: { path: string }[] }>(
      app,
      "POST",
      `/_admin/gpus/${gpu.gpuId}/status`,
      { status: "sleeping" },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('"status"');
    expect(bad.body.issues[0]?.path).toBe("status");
    expect((await admin(app, "POST", "/_admin/gpus/gpu-nope/status", { status: "offline" })).status).toBe(
      404,
    );
  });

  it("PUT /_admin/gpus/:id creates and updates GPUs", async () => {
    const { app, store } = makeFixture();
    const provider = must(store.listProviders().find((p) => p.status === "active"));
    const created = await admin<{ gpu: Gpu; created: boolean; providers: Provider[] }>(
      app,
      "PUT",
      "/_admin/gpus/gpu-extra-1",
      { providerId: provider.providerId, gpuType: "H100-SXM", pricePerHour: 2.5, performanceScore: 101 },
    );
    expect(created.status).toBe(200);
    expect(created.body.created).toBe(true);
    expect(created.body.gpu).toMatchObject({
      gpuId: "gpu-extra-1",
      version: 1,
      memoryGb: 80,
      pricePerHour: 2.5,
    });
    expect(providerSchema.parse(created.body.providers[0]).gpuIds).toContain("gpu-extra-1");
    expect((await request(app, "/v1/gpus/gpu-extra-1")).status).toBe(200);

    // A whole record as read from GET is accepted; the origin owns version and updatedAt.
    const updated = await admin<{ gpu: Gpu }>(app, "PUT", "/_admin/gpus/gpu-extra-1", {
      ...created.body.gpu,
      pricePerHour: 2.75,
      version: 999,
    });
    expect(updated.body.gpu).toMatchObject({ pricePerHour: 2.75, version: 2 });

    const mismatch = await admin<{ error: string }>(app, "PUT", "/_admin/gpus/gpu-extra-1", {
      gpuId: "gpu-other",
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatch(/^gpuId: /);
    const negative = await admin<{ error: string }>(app, "PUT", "/_admin/gpus/gpu-extra-1", {
      pricePerHour: -1,
    });
    expect(negative.status).toBe(400);
    expect(negative.body.error).toContain('"pricePerHour"');
    const unknownType = await admin(app, "PUT", "/_admin/gpus/gpu-extra-1", { gpuType: "TPU-v5" });
    expect(unknownType.status).toBe(404);
  });

  it("POST /_admin/pricing reprices the pair's GPUs and the listings and stats show it", async () => {
    const { app, store } = makeFixture();
    const pairGpus = store.listGpus({ gpuType: "RTX-4090", region: "us-west" });
    const reply = await admin<{ price: Price; gpus: Gpu[]; marketStats: MarketStats[] }>(
      app,
      "POST",
      "/_admin/pricing",
      {
        gpuType: "RTX-4090",
        region: "us-west",
        pricePerHour: 0.55,
      },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.price).toMatchObject({ pricePerHour: 0.55, version: 2 });
    expect(reply.body.gpus).toHaveLength(pairGpus.length);
    expect(reply.body.gpus.every((gpu, i) => gpu.version === (pairGpus[i]?.version ?? 0) + 1)).toBe(true);
    const listing = await request<{ items: Gpu[] }>(app, "/v1/gpus?region=us-west&type=RTX-4090&limit=500");
    expect(new Set(listing.body.items.map((gpu) => gpu.pricePerHour))).toEqual(new Set([0.55]));
    const stats = await request<MarketStats>(app, "/v1/market/stats?region=us-west&type=RTX-4090");
    expect(stats.body.averagePricePerHour).toBe(0.55);
    expect(stats.body.minPricePerHour).toBe(0.55);
    const price = await request<Price>(app, "/v1/pricing?type=RTX-4090&region=us-west");
    expect(price.body.pricePerHour).toBe(0.55);

    const bad = await admin<{ error: string }>(app, "POST", "/_admin/pricing", {
      gpuType: "RTX-4090",
      region: "us-west",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('"pricePerHour"');
    expect(
      (
        await admin(app, "POST", "/_admin/pricing", {
          gpuType: "RTX-4090",
          region: "mars-1",
          pricePerHour: 1,
        })
      ).status,
    ).toBe(404);
  });

  it("POST /_admin/providers/:id/status fans maintenance out to every GPU of the provider", async () => {
    const { app, store } = makeFixture();
    const provider = must(store.listProviders().find((p) => p.status === "active" && p.gpuIds.length > 5));
    const reply = await admin<{ provider: Provider; gpus: Gpu[]; marketStats: MarketStats[] }>(
      app,
      "POST",
      `/_admin/providers/${provider.providerId}/status`,
      { status: "maintenance" },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.provider).toMatchObject({ status: "maintenance", version: provider.version + 1 });
    expect(reply.body.gpus.length).toBeGreaterThan(0);
    for (const gpuId of provider.gpuIds) {
      expect((await request<Gpu>(app, `/v1/gpus/${gpuId}`)).body.status).toBe("maintenance");
    }
    const available = await request<{ items: Gpu[] }>(
      app,
      `/v1/gpus?status=available&limit=500&region=${provider.region}`,
    );
    expect(available.body.items.some((gpu) => gpu.providerId === provider.providerId)).toBe(false);
    const read = await request<Provider>(app, `/v1/providers/${provider.providerId}`);
    expect(read.body.status).toBe("maintenance");
    expect(read.headers.get("X-Origin-Version")).toBe(String(provider.version + 1));
    expect((await admin(app, "POST", "/_admin/providers/prov-001/status", { status: "paused" })).status).toBe(
      400,
    );
  });

  it("POST /_admin/orderbook/:gpuType replaces the book in order and bumps its version", async () => {
    const { app } = makeFixture();
    const reply = await admin<{ orderBook: OrderBook }>(app, "POST", "/_admin/orderbook/L40S", {
      region: "eu-west",
      bids: [
        { pricePerHour: 1.1, quantity: 2 },
        { pricePerHour: 1.2, quantity: 1 },
      ],
      asks: [{ pricePerHour: 1.4, quantity: 3 }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.orderBook.bids.map((level) => level.pricePerHour)).toEqual([1.2, 1.1]);
    expect(reply.body.orderBook.version).toBe(2);
    const read = await request<OrderBook>(app, "/v1/orderbook/L40S?region=eu-west");
    expect(read.body).toEqual(reply.body.orderBook);
    const bad = await admin<{ error: string }>(app, "POST", "/_admin/orderbook/L40S", {
      region: "eu-west",
      bids: [{ pricePerHour: 1, quantity: 0 }],
      asks: [],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('"bids[0].quantity"');
  });

  it("POST /_admin/reset regenerates from the seed", async () => {
    const { app, store } = makeFixture();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const pristine = (await request(app, `/v1/gpus/${gpu.gpuId}`)).text;
    await admin(app, "POST", `/_admin/gpus/${gpu.gpuId}/status`, { status: "offline" });
    expect((await request(app, `/v1/gpus/${gpu.gpuId}`)).text).not.toBe(pristine);
    const reset = await admin<{ seed: number; counts: { gpus: number } }>(app, "POST", "/_admin/reset");
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ seed: 42, counts: { gpus: 2000 } });
    expect((await request(app, `/v1/gpus/${gpu.gpuId}`)).text).toBe(pristine);
    const reseeded = await admin<{ seed: number }>(app, "POST", "/_admin/reset", { seed: 9 });
    expect(reseeded.body.seed).toBe(9);
    expect((await admin(app, "POST", "/_admin/reset", { seed: "nine" })).status).toBe(400);
  });

  it("rejects malformed JSON and unknown fields with 400", async () => {
    const { app } = makeFixture();
    const broken = await admin<{ error: string }>(app, "POST", "/_admin/pricing", "{not json");
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/JSON/);
    const extra = await admin<{ error: string }>(app, "POST", "/_admin/gpus/gpu-00001/status", {
      status: "offline",
      reason: "x",
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toContain("reason");
  });

  it("stamps updatedAt from the injected clock", async () => {
    const { app, store, clock } = makeFixture();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const first = clock.advance(1_000);
    const a = await admin<{ gpu: Gpu }>(app, "POST", `/_admin/gpus/${gpu.gpuId}/status`, {
      status: "offline",
    });
    const second = clock.advance(2_000);
    const b = await admin<{ gpu: Gpu }>(app, "POST", `/_admin/gpus/${gpu.gpuId}/status`, {
      status: "maintenance",
    });
    expect(a.body.gpu.updatedAt).toBe(first);
    expect(b.body.gpu.updatedAt).toBe(second);
    expect(b.body.gpu.version).toBe(gpu.version + 2);
  });
});

describe("admin token", () => {
  it("guards every admin route when configured", async () => {
    const { app } = makeFixture({ app: { adminToken: "s3cret" } });
    expect((await admin(app, "GET", "/_admin/counters")).status).toBe(401);
    expect((await admin(app, "POST", "/_admin/reset", {}, { Authorization: "Bearer wrong" })).status).toBe(
      401,
    );
    expect(
      (await admin(app, "GET", "/_admin/counters", undefined, { Authorization: "Bearer s3cret" })).status,
    ).toBe(200);
    expect((await request(app, "/v1/regions")).status).toBe(200);
  });
});

describe("request counters, latency and faults", () => {
  it("counts public GETs by route and path, 304s and errors included, admin calls not", async () => {
    const { app } = makeFixture();
    const first = await request(app, "/v1/gpus/gpu-00001");
    await request(app, "/v1/gpus/gpu-00001", {
      headers: { "If-None-Match": first.headers.get("ETag") ?? "" },
    });
    await request(app, "/v1/gpus/gpu-99999");
    await request(app, "/v1/gpus?limit=2");
    await admin(app, "POST", "/_admin/gpus/gpu-00002/status", { status: "offline" });

    const counters = await admin<OriginCounters>(app, "GET", "/_admin/counters");
    expect(counters.body.requests).toBe(4);
    expect(counters.body.byRoute).toEqual({ "/v1/gpus/:gpuId": 3, "/v1/gpus": 1 });
    expect(counters.body.byPath["/v1/gpus/gpu-00001"]).toBe(2);

    const reset = await admin<OriginCounters>(app, "POST", "/_admin/counters/reset");
    expect(reset.body).toEqual({ requests: 0, byRoute: {}, byPath: {} });
    await request(app, "/v1/regions");
    expect((await admin<OriginCounters>(app, "GET", "/_admin/counters")).body.requests).toBe(1);
  });

  it("delays public GETs by latencyMs, but not admin calls", async () => {
    // The latency is waited out on a manual clock: elapsed time is what the app slept.
    const clock = new ManualClock();
    const { sleep, delays } = recordingSleep(clock);
    const { app } = makeFixture({ app: { latencyMs: 80, sleep } });
    let started = clock.now();
    await request(app, "/v1/regions");
    expect(clock.now() - started).toBeGreaterThanOrEqual(75);
    started = clock.now();
    await admin(app, "GET", "/_admin/counters");
    expect(clock.now() - started).toBeLessThan(75);
    expect(delays).toEqual([80]);
  });

  it("simulates an outage with /_admin/faults until cleared", async () => {
    const { app } = makeFixture();
    const set = await admin<{ failStatus: number | null }>(app, "POST", "/_admin/faults", {
      failStatus: 503,
    });
    expect(set.body.failStatus).toBe(503);
    const down = await request<{ error: string }>(app, "/v1/regions");
    expect(down.status).toBe(503);
    expect(down.headers.get("Cache-Control")).toBe("no-store");
    await admin(app, "POST", "/_admin/faults", { failStatus: null });
    expect((await request(app, "/v1/regions")).status).toBe(200);
    expect((await admin<OriginCounters>(app, "GET", "/_admin/counters")).body.requests).toBe(2);
    expect((await admin(app, "POST", "/_admin/faults", { failStatus: 404 })).status).toBe(400);
  });
});
