/**
 * What the Worker reports (workers/telemetry/), inside workerd with the Analytics Engine
 * binding wrangler.toml declares (`EDGE_METRICS`, Miniflare's simulator): exactly one data point
 * per answered request, errors included, laid out as DATA_POINT_LAYOUT says; one JSON log
 * record per request with its id; nothing secret in any record. Keys used here are used by no
 * other test file.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../workers/app";
import { buildServices } from "../../workers/index";
import {
  ANALYTICS_BINDING,
  blobColumn,
  DATA_POINT_LAYOUT,
  DATA_POINT_LIMITS,
  type DataPoint,
  doubleColumn,
  logRecord,
  MAX_LOG_TEXT_LENGTH,
  MEMORY_POINTS_KEPT,
  NO_SYNC_AGE,
  REDACTED,
  recordingLog,
} from "../../workers/telemetry";
import {
  analyticsDataset,
  bindings,
  edgeGet,
  makeTestApp,
  ORIGIN_URL,
  type TestApp,
  uniquePrefix,
} from "./support";

const OPERATOR_TOKEN = "telemetry-operator-token-0123";

/** A point's fields by name, read through the layout: what SQL's blobN / doubleN hold. */
function fieldsOf(point: DataPoint) {
  const blobs = Object.fromEntries(DATA_POINT_LAYOUT.blobs.map((name, index) => [name, point.blobs[index]]));
  const doubles = Object.fromEntries(
    DATA_POINT_LAYOUT.doubles.map((name, index) => [name, point.doubles[index]]),
  );
  return { index: point.indexes[0], ...blobs, doubles };
}

/** Sends one request and returns the one point (and the one request record) it wrote. */
async function onePoint(app: TestApp, path: string, init: RequestInit = {}) {
  const pointsBefore = app.dataset.points.length;
  const recordsBefore = requestRecords(app).length;
  const response = await app.request(path, init);
  await response.arrayBuffer();
  expect(app.dataset.points.length, `${init.method ?? "GET"} ${path}`).toBe(pointsBefore + 1);
  expect(requestRecords(app).length).toBe(recordsBefore + 1);
  return {
    response,
    point: app.dataset.points.at(-1) as DataPoint,
    record: requestRecords(app).at(-1) as Record<string, unknown>,
  };
}

function requestRecords(app: TestApp) {
  return app.log.records.filter(({ record }) => record.event === "request").map(({ record }) => record);
}

describe("the Analytics Engine binding", () => {
  it("is in the workers test runtime from wrangler.toml, and the Worker writes to it", () => {
    expect(typeof analyticsDataset?.writeDataPoint).toBe("function");
    const services = buildServices({ ...bindings, KEY_PREFIX: uniquePrefix() }, { log: recordingLog() });
    expect(services.telemetry.points.kind).toBe("analytics-engine");
    expect(services.telemetry.memoryPoints).toBeUndefined();
  });

  it("is named in workers/telemetry, not exported by the Worker's module: workerd takes each export for an entrypoint", async () => {
    // workerd refuses to start a Worker whose module exports a string (an entrypoint is a function or an object).
    const worker: Record<string, unknown> = await import("../../workers/index");
    for (const [name, value] of Object.entries(worker))
      expect(["function", "object"], name).toContain(typeof value);
  });

  it("where the runtime has none, points are kept in memory, the newest MEMORY_POINTS_KEPT", async () => {
    const { [ANALYTICS_BINDING]: _binding, ...withoutBinding } = bindings;
    const services = buildServices(
      { ...withoutBinding, KEY_PREFIX: uniquePrefix() },
      { log: recordingLog() },
    );
    const { telemetry } = services;
    expect(telemetry.points.kind).toBe("memory");
    const app = createEdgeApp(() => services);
    for (let index = 0; index < MEMORY_POINTS_KEPT + 3; index += 1) {
      await app.request(`http://edge.test/nowhere-${index}`, {}, bindings);
    }
    expect(telemetry.points.written).toBe(MEMORY_POINTS_KEPT + 3);
    const kept = telemetry.memoryPoints?.points ?? [];
    expect(kept).toHaveLength(MEMORY_POINTS_KEPT);
    expect(fieldsOf(kept.at(-1) as DataPoint)).toMatchObject({ route: "unmatched", status: "404" });
  });

  describe("the real Worker (module-scope services)", () => {
    const original = analyticsDataset.writeDataPoint;
    afterEach(() => {
      analyticsDataset.writeDataPoint = original;
    });

    it("writes one point per answered request to the binding", async () => {
      const points: DataPoint[] = [];
      analyticsDataset.writeDataPoint = (point) => {
        points.push(point as DataPoint);
        original.call(analyticsDataset, point);
      };
      expect((await edgeGet("/v1/gpus/gpu-01101")).status).toBe(200);
      expect(points).toHaveLength(1);
      expect((await edgeGet("/v1/no-such-route")).status).toBe(404);
      expect((await edgeGet("/_cache/stats")).status).toBe(401);
      expect(points.map((point) => fieldsOf(point))).toEqual([
        expect.objectContaining({ index: "gpu", route: "/v1/gpus/:gpuId", dataClass: "gpu", status: "200" }),
        expect.objectContaining({ index: "unmatched", route: "unmatched", tier: "none", status: "404" }),
        expect.objectContaining({ index: "/_cache/stats", route: "/_cache/stats", outcome: "rejected" }),
      ]);
    });
  });
});

describe("one data point per answered request", () => {
  it("a miss, a hit, and an operator endpoint: route, class, tier, status, latency and sync age in place", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    const path = "/v1/gpus/gpu-01102";
    app.origin.handler = async (originPath, init) => {
      app.clock.advance(7);
      return fetch(`${ORIGIN_URL}${originPath}`, init);
    };

    const miss = await onePoint(app, path);
    expect(miss.response.status).toBe(200);
    expect(fieldsOf(miss.point)).toEqual({
      index: "gpu",
      route: "/v1/gpus/:gpuId",
      dataClass: "gpu",
      tier: "ORIGIN",
      status: "200",
      stale: "none",
      colo: "none",
      outcome: "miss",
      method: "GET",
      // The origin took 7 ms on the clock; the log was read as the request began.
      doubles: { latencyMs: 7, syncAgeMs: 7, status: 200 },
    });

    app.clock.advance(100);
    const hit = await onePoint(app, path, { headers: { "cf-ray": "8f1c2d3e4a5b6c7d-LHR" } });
    expect(fieldsOf(hit.point)).toMatchObject({
      tier: "L1",
      outcome: "hit",
      doubles: { latencyMs: 0, syncAgeMs: 107, status: 200 },
    });
    expect(hit.record).toMatchObject({
      event: "request",
      requestId: "8f1c2d3e4a5b6c7d-LHR",
      route: "/v1/gpus/:gpuId",
      path,
      dataClass: "gpu",
      tier: "L1",
      status: 200,
      outcome: "hit",
      latencyMs: 0,
      syncAgeMs: 107,
    });

    const stats = await onePoint(app, "/_cache/stats", {
      headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(fieldsOf(stats.point)).toMatchObject({
      index: "/_cache/stats",
      route: "/_cache/stats",
      dataClass: "none",
      tier: "none",
      status: "200",
      outcome: "served",
    });
  });

  it("errors too: 400, 404, 405, 414 and 503 each write exactly one point", async () => {
    const app = makeTestApp();
    const bad = await onePoint(app, "/v1/gpus?limit=0");
    expect(bad.response.status).toBe(400);
    expect(fieldsOf(bad.point)).toMatchObject({
      index: "/v1/gpus",
      route: "/v1/gpus",
      dataClass: "none",
      tier: "BYPASS",
      status: "400",
      outcome: "rejected",
    });

    const unknownRegion = await onePoint(app, "/v1/pricing?region=mars-1");
    expect(unknownRegion.response.status).toBe(400);
    // The lookup was made before the region was refused: its class is known.
    expect(fieldsOf(unknownRegion.point)).toMatchObject({
      index: "pricing",
      dataClass: "pricing",
      status: "400",
    });

    const missing = await onePoint(app, "/v2/nothing");
    expect(fieldsOf(missing.point)).toMatchObject({
      index: "unmatched",
      route: "unmatched",
      tier: "none",
      status: "404",
      outcome: "rejected",
      method: "GET",
    });

    const wrongMethod = await onePoint(app, "/v1/gpus/gpu-01103", { method: "DELETE" });
    expect(wrongMethod.response.status).toBe(405);
    expect(fieldsOf(wrongMethod.point)).toMatchObject({
      route: "/v1/gpus/:gpuId",
      method: "DELETE",
      tier: "BYPASS",
      status: "405",
      outcome: "rejected",
    });

    const tooLong = await onePoint(app, `/v1/gpus?junk=${"x".repeat(5000)}`);
    expect(tooLong.response.status).toBe(414);
    expect(fieldsOf(tooLong.point)).toMatchObject({ route: "unmatched", status: "414" });

    app.origin.failWith503();
    const down = await onePoint(app, "/v1/gpus/gpu-01104");
    expect(down.response.status).toBe(503);
    expect(fieldsOf(down.point)).toMatchObject({
      index: "gpu",
      route: "/v1/gpus/:gpuId",
      dataClass: "gpu",
      tier: "BYPASS",
      status: "503",
      outcome: "error",
      doubles: { status: 503 },
    });
    expect(down.record).toMatchObject({ status: 503, outcome: "error" });
    expect(app.log.records.find(({ record }) => record.status === 503)?.level).toBe("warn");
  });

  it("a stale answer says why, and a HEAD is counted like its GET", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-01105";
    await onePoint(app, path);
    app.clock.advance(31_000);
    const stale = await onePoint(app, path);
    expect(fieldsOf(stale.point)).toMatchObject({ tier: "STALE", stale: "revalidating", outcome: "stale" });
    const head = await onePoint(app, path, { method: "HEAD" });
    expect(fieldsOf(head.point)).toMatchObject({ route: "/v1/gpus/:gpuId", method: "HEAD", status: "200" });
  });

  it("before the isolate's first log read the sync age is NO_SYNC_AGE", async () => {
    const app = makeTestApp();
    const health = await onePoint(app, "/_cache/health");
    expect(health.point.doubles[DATA_POINT_LAYOUT.doubles.indexOf("syncAgeMs")]).toBe(NO_SYNC_AGE);
    expect(health.record.syncAgeMs).toBeUndefined();
  });

  it("every point stays within Analytics Engine's limits", async () => {
    const app = makeTestApp();
    await app.get("/v1/gpus/gpu-01106");
    await app.get(`/${"y".repeat(3000)}`);
    await app.get("/v1/orderbook/A10G");
    expect(app.dataset.points.length).toBe(3);
    for (const point of app.dataset.points) {
      expect(point.indexes).toHaveLength(1);
      expect(new TextEncoder().encode(point.indexes[0]).byteLength).toBeLessThanOrEqual(
        DATA_POINT_LIMITS.indexBytes,
      );
      expect(point.blobs.length).toBeLessThanOrEqual(DATA_POINT_LIMITS.blobs);
      expect(point.doubles.length).toBeLessThanOrEqual(DATA_POINT_LIMITS.doubles);
      const blobBytes = point.blobs.reduce((sum, blob) => sum + new TextEncoder().encode(blob).byteLength, 0);
      expect(blobBytes).toBeLessThanOrEqual(DATA_POINT_LIMITS.blobBytes);
      for (const value of point.doubles) expect(Number.isFinite(value)).toBe(true);
    }
  });
});

describe("the layout's columns", () => {
  it("name blob1..n and double1..n in DATA_POINT_LAYOUT's order, as the README's SQL reads them", () => {
    expect(DATA_POINT_LAYOUT.blobs.map((field) => blobColumn(field))).toEqual(
      DATA_POINT_LAYOUT.blobs.map((_, index) => `blob${index + 1}`),
    );
    // The columns the README's queries use.
    expect({
      route: blobColumn("route"),
      dataClass: blobColumn("dataClass"),
      tier: blobColumn("tier"),
      status: blobColumn("status"),
      stale: blobColumn("stale"),
      colo: blobColumn("colo"),
      outcome: blobColumn("outcome"),
      method: blobColumn("method"),
      latencyMs: doubleColumn("latencyMs"),
      syncAgeMs: doubleColumn("syncAgeMs"),
      statusNumber: doubleColumn("status"),
    }).toEqual({
      route: "blob1",
      dataClass: "blob2",
      tier: "blob3",
      status: "blob4",
      stale: "blob5",
      colo: "blob6",
      outcome: "blob7",
      method: "blob8",
      latencyMs: "double1",
      syncAgeMs: "double2",
      statusNumber: "double3",
    });
  });
});

describe("the JSON log", () => {
  it("every record is a flat JSON object; a request without cf-ray gets an id of its own", async () => {
    const app = makeTestApp();
    await app.get("/v1/gpus/gpu-01107");
    await app.get("/v1/gpus/gpu-01107", { "cf-ray": "not a ray id!" });
    const [first, second] = requestRecords(app);
    expect(first?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.requestId).not.toBe(first?.requestId);
    for (const { record } of app.log.records) {
      expect(JSON.parse(JSON.stringify(record))).toEqual(record);
      for (const value of Object.values(record))
        expect(["string", "number", "boolean"]).toContain(typeof value);
    }
  });

  it("never holds a credential, a token or a body", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    app.origin.handler = () =>
      new Response('{"bookings":["secret-booking-body"]}', {
        headers: { "Content-Type": "application/json", "Set-Cookie": "session=cookie-value-123" },
      });
    await app.get("/v1/bookings", { Authorization: "Bearer user-token-abcdef", Cookie: "session=abc" });
    await app.get("/_cache/stats", { Authorization: `Bearer ${OPERATOR_TOKEN}` });
    await app.get("/_cache/metrics", { Authorization: `Bearer ${OPERATOR_TOKEN}` });
    await app.get("/_cache/stats", { Authorization: "Bearer wrong-token-0123456789" });
    const text = JSON.stringify(app.log.records);
    for (const secret of [
      OPERATOR_TOKEN,
      "user-token-abcdef",
      "wrong-token-0123456789",
      "session=",
      "secret-booking-body",
      bindings.UPSTASH_REDIS_REST_TOKEN as string,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(requestRecords(app).map((record) => record.route)).toEqual([
      "/v1/bookings",
      "/_cache/stats",
      "/_cache/metrics",
      "/_cache/stats",
    ]);
  });

  it("fields named like credentials are redacted and long text is cut, whatever the caller passed", () => {
    const record = logRecord("x", {
      authorization: "Bearer abc",
      operatorToken: "t0k3n",
      webhookSecret: "whsec_x",
      responseBody: "{}",
      detail: "d".repeat(MAX_LOG_TEXT_LENGTH + 50),
      absent: undefined,
      count: 3,
    });
    expect(record).toEqual({
      event: "x",
      authorization: REDACTED,
      operatorToken: REDACTED,
      webhookSecret: REDACTED,
      responseBody: REDACTED,
      detail: `${"d".repeat(MAX_LOG_TEXT_LENGTH)}…`,
      count: 3,
    });
  });

  it("the engine's warnings go through it as records too", async () => {
    const app = makeTestApp({
      bindingOverrides: { UPSTASH_REDIS_REST_TOKEN: "not-the-bridge-token" },
    });
    expect((await app.get("/v1/gpus/gpu-01108")).status).toBe(200);
    const engine = app.log.records.filter(({ record }) => record.event === "engine");
    expect(engine.length).toBeGreaterThan(0);
    expect(engine[0]).toMatchObject({ level: "warn", record: { message: "Redis call failed" } });
    expect(JSON.stringify(engine)).not.toContain("not-the-bridge-token");
  });
});
