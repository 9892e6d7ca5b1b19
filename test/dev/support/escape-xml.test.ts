import { describe, expect, it } from "vitest";
import { escapeXml } from "../../../dev/support/escape-xml";

describe("escapeXml", () => {
  it("escapes the five XML special characters, ampersands first", () => {
    expect(escapeXml(`<a href="x?y=1&z='2'">`)).toBe("&lt;a href=&quot;x?y=1&amp;z=&apos;2&apos;&quot;&gt;");
  });

  it("leaves other text as it is", () => {
    expect(escapeXml("/v1/gpus/gpu-00001 ✓")).toBe("/v1/gpus/gpu-00001 ✓");
  });
});
