/**
 * Conditional requests (docs/architecture.md "Edge HTTP API": `ETag` with `If-None-Match` → 304),
 * through the real Worker and through a second isolate answering from L2.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";
import { edgeGet, hashOf, makeTestApp, originText, workerKeys } from "./support";

const GPU_CACHE_CONTROL = "public, max-age=30, s-maxage=1, stale-if-error=600";
const GPU_CDN_CACHE_CONTROL = "public, max-age=1, stale-if-error=600";

async function cachedEtag(path: string): Promise<string> {
  const response = await edgeGet(path);
  expect(response.status).toBe(200);
  await response.text();
  const etag = response.headers.get("ETag");
  expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  return etag as string;
}

describe("If-None-Match (real Worker)", () => {
  it("the current ETag gives a 304 with no body, the same ETag and the caching headers", async () => {
    const path = "/v1/gpus/gpu-00111";
    const etag = await cachedEtag(path);

    const response = await edgeGet(path, { "If-None-Match": etag });
    expect(response.status).toBe(304);
    expect(await response.text()).toBe("");
    expect(response.headers.get("ETag")).toBe(etag);
    expect(response.headers.get("Cache-Control")).toBe(GPU_CACHE_CONTROL);
    expect(response.headers.get("CDN-Cache-Control")).toBe(GPU_CDN_CACHE_CONTROL);
    expect(response.headers.get("Cache-Tag")).toBe("gpu:gpu-00111");
    expect(response.headers.get("X-Cache")).toBe("L1");
    expect(response.headers.get("Server-Timing")).toMatch(/l1;dur=/);
  });

  it("a tag that does not match gives the full 200", async () => {
    const path = "/v1/gpus/gpu-00112";
    const etag = await cachedEtag(path);
    const body = await originText(path);

    for (const other of [
      '"0123456789abcdef0123456789abcdef"',
      `W/"nope"`,
      `${etag.slice(0, -2)}${etag.endsWith('0"') ? 1 : 0}"`,
    ]) {
      const response = await edgeGet(path, { "If-None-Match": other });
      expect(response.status, other).toBe(200);
      expect(await response.text()).toBe(body);
      expect(response.headers.get("ETag")).toBe(etag);
    }
  });

  it("the weak form W/ of the tag, a list containing it, and * all match", async () => {
    const path = "/v1/pricing?type=L40S&region=eu-west";
    const etag = await cachedEtag(path);

    for (const candidate of [`W/${etag}`, `"aaaa", ${etag}`, `"aaaa" , W/${etag}`, "*"]) {
      const response = await edgeGet(path, { "If-None-Match": candidate });
      expect(response.status, candidate).toBe(304);
      expect(await response.text()).toBe("");
      expect(response.headers.get("ETag")).toBe(etag);
      expect(response.headers.get("Cache-Control")).toBe(
        "public, max-age=10, s-maxage=1, stale-if-error=300",
      );
    }
  });

  it("an answer from L2 in another isolate carries the same ETag and honours it", async () => {
    const path = "/v1/gpus/gpu-00113";
    const etag = await cachedEtag(path);
    const body = await originText(path);
    await vi.waitFor(async () => expect((await hashOf(workerKeys.gpu("gpu-00113"))).b).toBe(body), {
      timeout: 5_000,
      interval: 20,
    });

    const other = makeTestApp({ keyPrefix: DEFAULT_KEY_PREFIX });
    const response = await other.get(path, { "If-None-Match": etag });
    expect(response.status).toBe(304);
    expect(response.headers.get("X-Cache")).toBe("L2");
    expect(response.headers.get("ETag")).toBe(etag);
    expect(other.origin.count()).toBe(0);
  });
});
