/** The retry message format: what the event Lambda writes is what the retry handler reads; anything else is poison. */
import { describe, expect, it } from "vitest";
import type { PurgeRetry } from "../../../lambdas/purge/purger";
import {
  decodeRetryMessage,
  encodeRetryMessage,
  type RetryMessage,
  retryMessage,
} from "../../../lambdas/retry/message";
import { ManualClock } from "../../support/manual-clock";

const clock = new ManualClock(Date.parse("2026-11-01T09:00:00Z"));

const cloudflareRetry: PurgeRetry = {
  provider: "cloudflare",
  zoneId: "zone",
  tags: ["gpu:gpu-00001", "gpus"],
  batchKey: "evt-1",
};

describe("retry message", () => {
  it("round-trips through encode and decode", () => {
    const message = retryMessage(
      cloudflareRetry,
      ["evt-1", "evt-2", "evt-1"],
      "429",
      new ManualClock(Date.parse("2026-11-01T10:00:00Z")),
    );
    expect(message).toEqual({
      v: 1,
      retry: cloudflareRetry,
      eventIds: ["evt-1", "evt-2"],
      firstFailedAt: "2026-11-01T10:00:00.000Z",
      lastError: "429",
    });
    const body = encodeRetryMessage(message);
    expect(JSON.parse(body)).toEqual(message);
    expect(decodeRetryMessage(body)).toEqual({ ok: true, message });
  });

  it("carries a CloudFront retry and shortens a long error", () => {
    const message = retryMessage(
      { provider: "cloudfront", distributionId: "E1", paths: ["/v1/gpus*"], batchKey: "batch:abc" },
      ["evt-3"],
      "x".repeat(5_000),
      clock,
    );
    expect(message.lastError.length).toBeLessThan(2_100);
    expect(decodeRetryMessage(encodeRetryMessage(message))).toMatchObject({
      ok: true,
      message: { retry: { provider: "cloudfront", paths: ["/v1/gpus*"] } },
    });
  });

  it("ignores unknown top-level fields (a newer writer's addition)", () => {
    const body = JSON.stringify({ ...retryMessage(cloudflareRetry, ["evt-1"], "e", clock), attempt: 3 });
    const decoded = decodeRetryMessage(body);
    expect(decoded.ok).toBe(true);
    expect(decoded.ok && "attempt" in decoded.message).toBe(false);
  });

  const valid = retryMessage(cloudflareRetry, ["evt-1"], "e", clock);
  it.for([
    ["not JSON", "{not json", /not JSON/],
    ["another version", JSON.stringify({ ...valid, v: 2 }), /^v:/],
    ["no eventIds", JSON.stringify({ ...valid, eventIds: undefined }), /eventIds/],
    ["a bad date", JSON.stringify({ ...valid, firstFailedAt: "yesterday" }), /firstFailedAt/],
    [
      "an empty tag list",
      JSON.stringify({ ...valid, retry: { ...cloudflareRetry, tags: [] } }),
      /retry\.tags/,
    ],
    ["an unknown provider", JSON.stringify({ ...valid, retry: { provider: "akamai" } }), /retry\.provider/],
    ["a JSON string", JSON.stringify("hello"), /\(body\)/],
  ] as const)("decodes %s as poison, without throwing", ([, body, reason]) => {
    const decoded = decodeRetryMessage(body);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? "" : decoded.poison).toMatch(reason);
  });

  it("refuses to encode a message that would not decode", () => {
    const bad = { ...valid, retry: { ...cloudflareRetry, zoneId: "" } } as RetryMessage;
    expect(() => encodeRetryMessage(bad)).toThrow();
  });
});
