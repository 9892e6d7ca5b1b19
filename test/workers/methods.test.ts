/**
 * Methods (RFC 9110 §15.5.6): a method a known path does not take is a 405 naming the ones it
 * does in `Allow`; HEAD is answered like GET without the body; unknown paths stay 404.
 * Keys used here are used by no other test file.
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../workers/app";
import { bindings, makeTestApp, type TestApp } from "./support";

const PURGE_SECRET = `whsec_${btoa("methods-test-secret-0123456789")}`;

async function send(app: TestApp, method: string, path: string): Promise<Response> {
  const router = createEdgeApp(() => app.services);
  const ctx = createExecutionContext();
  const response = await router.request(`http://edge.test${path}`, { method }, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function expectNotAllowed(response: Response, allow: string, label: string): Promise<void> {
  expect(response.status, label).toBe(405);
  expect(response.headers.get("Allow"), label).toBe(allow);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const { error } = (await response.json()) as { error: string };
  expect(error).toContain("not allowed");
  expect(error).toContain(allow);
}

describe("405 Method Not Allowed", () => {
  it.each([
    ["POST", "/v1/gpus"],
    ["PUT", "/v1/gpus/gpu-00701"],
    ["DELETE", "/v1/gpus/bad$id"],
    ["PATCH", "/v1/pricing?type=A10G"],
    ["POST", "/v1/providers/prov-001"],
    ["DELETE", "/v1/market/stats"],
    ["POST", "/v1/orderbook/A10G"],
    ["PUT", "/v1/regions"],
    ["DELETE", "/v1/gpu-types"],
    ["POST", "/v1/bookings"],
    ["POST", "/_cache/health"],
    ["DELETE", "/_cache/stats"],
    ["POST", "/_cache/metrics"],
    ["OPTIONS", "/v1/gpus"],
  ])("%s %s → 405, Allow: GET, HEAD; nothing fetched", async (method, path) => {
    const app = makeTestApp();
    await expectNotAllowed(await send(app, method, path), "GET, HEAD", `${method} ${path}`);
    expect(app.origin.count()).toBe(0);
    expect(app.cache.stats.redisCommands).toBe(0);
  });

  it("the purge endpoint takes POST only: GET, PUT and DELETE are 405 with Allow: POST", async () => {
    const app = makeTestApp({ bindingOverrides: { PURGE_WEBHOOK_SECRETS: PURGE_SECRET } });
    for (const method of ["GET", "PUT", "DELETE"]) {
      await expectNotAllowed(await send(app, method, "/_cache/purge"), "POST", method);
    }
    // POST still reaches the purge handler (which wants a signature).
    expect((await send(app, "POST", "/_cache/purge")).status).toBe(401);
  });

  it("without PURGE_WEBHOOK_SECRETS the purge endpoint does not exist, for any method", async () => {
    const app = makeTestApp();
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await send(app, method, "/_cache/purge");
      expect(response.status, method).toBe(404);
      expect(response.headers.get("Allow")).toBeNull();
    }
  });

  it("unknown paths stay 404 whatever the method", async () => {
    const app = makeTestApp();
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await send(app, method, "/v1/nothing-here");
      expect(response.status, method).toBe(404);
      expect(await response.json()).toEqual({ error: "Not found" });
    }
  });

  it("the real Worker: POST /v1/gpus and DELETE /_cache/stats are 405", async () => {
    for (const [method, path] of [
      ["POST", "/v1/gpus"],
      ["DELETE", "/_cache/stats"],
      ["POST", "/_cache/metrics"],
    ] as const) {
      const response = await exports.default.fetch(new Request(`http://edge.test${path}`, { method }));
      await expectNotAllowed(response, "GET, HEAD", `${method} ${path}`);
    }
  });
});

describe("HEAD", () => {
  it("HEAD on a GET route: the GET answer's status and headers, no body", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-00702";
    const get = await app.get(path);
    const head = await send(app, "HEAD", path);
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    for (const name of ["Content-Type", "Cache-Control", "ETag", "Cache-Tag"]) {
      expect(head.headers.get(name), name).toBe(get.headers.get(name));
    }
    expect(head.headers.get("X-Cache")).toBe("L1");
    expect((await send(app, "HEAD", "/_cache/health")).status).toBe(200);
  });
});
