/** The bound per class comes from the policies the Worker runs with, not from a table of its own. */
import { describe, expect, it } from "vitest";
import {
  applyPolicyOverrides,
  DATA_CLASS_NAMES,
  DEFAULT_DATA_CLASS_POLICIES,
} from "../../../core/data-classes";
import { FRESHNESS_MARGIN_MS, freshnessBoundMs, freshnessBounds } from "../../../dev/freshness/bounds";

describe("freshness bounds", () => {
  it("is the class's front TTL plus the sync interval plus the margin", () => {
    const bounds = freshnessBounds({ syncIntervalMs: 500 });
    for (const name of DATA_CLASS_NAMES)
      expect(bounds[name]).toBe(
        DEFAULT_DATA_CLASS_POLICIES[name].cdnMaxAgeSeconds * 1000 + 500 + FRESHNESS_MARGIN_MS,
      );
    // Event-covered classes differ from reference data only through their policies.
    expect(bounds.availability).toBeLessThan(bounds.reference);
  });

  it("follows overridden policies, the sync interval and the margin", () => {
    const { policies, problems } = applyPolicyOverrides({ availability: { cdnMaxAgeSeconds: 3 } });
    expect(problems).toEqual([]);
    expect(freshnessBoundMs("availability", { syncIntervalMs: 200, policies, marginMs: 50 })).toBe(3_250);
    expect(freshnessBoundMs("gpu", { syncIntervalMs: 200, policies, marginMs: 0 })).toBe(
      DEFAULT_DATA_CLASS_POLICIES.gpu.cdnMaxAgeSeconds * 1000 + 200,
    );
  });
});
