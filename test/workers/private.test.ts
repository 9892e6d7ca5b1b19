/**
 * Private answers never enter a shared tier (docs/architecture.md "The tiers"): requests with
 * credentials bypass every cache, `/v1/bookings` passes through, and an origin answer
 * marked private (Set-Cookie, Cache-Control private/no-store) is stored nowhere.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { edgeGet, hashOf, keysUnder, makeTestApp, originCount, originText, workerKeys } from "./support";

function expectBypass(response: Response): void {
  expect(response.headers.get("X-Cache")).toBe("BYPASS");
  expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  expect(response.headers.get("CDN-Cache-Control")).toBeNull();
  expect(response.headers.get("Cache-Tag")).toBeNull();
  expect(response.headers.get("ETag")).toBeNull();
}

describe("requests with credentials (real Worker)", () => {
  it.each([
    ["Authorization", { Authorization: "Bearer user-token-1" }, "gpu-00201"],
    ["Cookie", { Cookie: "session=abc123" }, "gpu-00202"],
  ] as const)(
    "%s: BYPASS, private, answered by the origin, stored in neither L1 nor L2",
    async (_name, headers, gpuId) => {
      const path = `/v1/gpus/${gpuId}`;
      const body = await originText(path);
      const asked = await originCount(path);

      for (let round = 1; round <= 2; round++) {
        const response = await edgeGet(path, headers);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(body);
        expectBypass(response);
        expect(await originCount(path)).toBe(asked + round);
      }
      expect(await hashOf(workerKeys.gpu(gpuId))).toEqual({});

      // Not in L1 either: the first anonymous read still has to go to the origin.
      const anonymous = await edgeGet(path);
      expect(anonymous.headers.get("X-Cache")).toBe("ORIGIN");
      expect(await originCount(path)).toBe(asked + 3);
    },
  );

  it("a request with credentials is not served the shared copy even when one is cached", async () => {
    const path = "/v1/gpus/gpu-00203";
    expect((await edgeGet(path)).headers.get("X-Cache")).toBe("ORIGIN");
    expect((await edgeGet(path)).headers.get("X-Cache")).toBe("L1");
    const asked = await originCount(path);
    const response = await edgeGet(path, { Cookie: "session=xyz" });
    expectBypass(response);
    expect(await originCount(path)).toBe(asked + 1);
  });

  it("GET /v1/bookings with a bearer token passes through: 200, Set-Cookie kept, BYPASS, private", async () => {
    const response = await edgeGet("/v1/bookings?userId=user-001", {
      Authorization: "Bearer booking-user-1",
    });
    expect(response.status).toBe(200);
    expectBypass(response);
    expect(response.headers.get("Set-Cookie")).toMatch(
      /^session=[0-9a-f]{24}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const body = (await response.json()) as { items: Array<{ userId: string }>; total: number };
    expect(body.total).toBe(body.items.length);
    for (const booking of body.items) expect(booking.userId).toBe("user-001");
  });

  it("GET /v1/bookings without a token: the origin's 401 passes through, WWW-Authenticate included", async () => {
    const response = await edgeGet("/v1/bookings");
    expect(response.status).toBe(401);
    expectBypass(response);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="marketplace"');
    expect(((await response.json()) as { error: string }).error).toMatch(/Bearer token is required/);
  });
});

describe("private origin answers on cacheable routes (app instance)", () => {
  it.each([
    ["Cache-Control: private", { "Cache-Control": "private, max-age=60" }, "private, max-age=60"],
    ["Cache-Control: no-store", { "Cache-Control": "no-store" }, "no-store"],
    // A public Cache-Control beside a Set-Cookie must not reach shared caches downstream either.
    [
      "Set-Cookie",
      { "Cache-Control": "public, max-age=30", "Set-Cookie": "id=1; Path=/" },
      "private, no-store",
    ],
  ] as const)(
    "%s: BYPASS, passed to the client, never in L1 or L2",
    async (_name, originHeaders, cacheControl) => {
      const app = makeTestApp();
      const gpuPath = "/v1/gpus/gpu-00204";
      app.origin.handler = () =>
        new Response('{"gpuId":"gpu-00204","forUser":"u-1"}', {
          status: 200,
          headers: { "Content-Type": "application/json", ...originHeaders },
        });

      for (let round = 1; round <= 2; round++) {
        const response = await app.get(gpuPath);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('{"gpuId":"gpu-00204","forUser":"u-1"}');
        expect(response.headers.get("X-Cache")).toBe("BYPASS");
        expect(response.headers.get("Cache-Control")).toBe(cacheControl);
        expect(response.headers.get("CDN-Cache-Control")).toBeNull();
        expect(response.headers.get("Cache-Tag")).toBeNull();
        expect(response.headers.get("ETag")).toBeNull();
        const setCookie = "Set-Cookie" in originHeaders ? originHeaders["Set-Cookie"] : null;
        expect(response.headers.get("Set-Cookie")).toBe(setCookie);
        expect(app.origin.count()).toBe(round);
      }
      expect(app.cache.l1Usage.entries).toBe(0);
      expect(app.cache.stats.bypass).toBe(2);
      expect(await keysUnder(app.keys)).toEqual([]);
    },
  );

  it("pass-through keeps every Set-Cookie of the origin, each as its own header", async () => {
    const app = makeTestApp();
    app.origin.handler = () => {
      const headers = new Headers({
        "Content-Type": "application/json",
        "Cache-Control": "private, no-store",
      });
      headers.append("Set-Cookie", "session=s1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly");
      headers.append("Set-Cookie", "csrf=c1; Path=/; Secure");
      return new Response('{"items":[],"total":0}', { status: 200, headers });
    };
    const response = await app.get("/v1/bookings", { Authorization: "Bearer t" });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([
      "session=s1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly",
      "csrf=c1; Path=/; Secure",
    ]);
  });

  it("pass-through forwards the credentials to the origin", async () => {
    const app = makeTestApp();
    await (await app.get("/v1/gpus/gpu-00205", { Authorization: "Bearer fwd", Cookie: "a=b" })).text();
    expect(app.origin.calls).toHaveLength(1);
    expect(app.origin.calls[0]?.path).toBe("/v1/gpus/gpu-00205");
    expect(app.origin.calls[0]?.headers.get("authorization")).toBe("Bearer fwd");
    expect(app.origin.calls[0]?.headers.get("cookie")).toBe("a=b");
  });

  it("pass-through keeps Host and other edge-only headers from the origin", async () => {
    const app = makeTestApp();
    await (
      await app.get("/v1/bookings?userId=u-1", {
        Authorization: "Bearer fwd",
        "X-Forwarded-For": "203.0.113.9",
        "CF-Connecting-IP": "203.0.113.9",
        Accept: "application/json",
      })
    ).text();
    const sent = app.origin.calls[0]?.headers;
    expect(sent?.get("authorization")).toBe("Bearer fwd");
    expect(sent?.get("accept")).toBe("application/json");
    expect(sent?.has("x-forwarded-for")).toBe(false);
    expect(sent?.has("cf-connecting-ip")).toBe(false);
    expect(sent?.has("host")).toBe(false);
  });
});
