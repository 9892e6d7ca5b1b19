/**
 * The one CACHE_POLICIES reader (core/config/cache-policies.ts): JSON text merged onto
 * the data-class defaults with every problem, for the Worker and the event Lambda alike;
 * and the CDK's variant that keeps the checked overrides as text to pass on.
 */
import { describe, expect, it } from "vitest";
import {
  cachePoliciesSetting,
  optional,
  policyOverridesText,
  readSettings,
  sourceOf,
} from "../../../core/config";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";

const read = (value: unknown) => cachePoliciesSetting.read(sourceOf({ CACHE_POLICIES: value }));

describe("CACHE_POLICIES", () => {
  it("is the defaults when unset or empty", () => {
    expect(read(undefined)).toEqual({ ok: true, value: DEFAULT_DATA_CLASS_POLICIES });
    expect(read("")).toEqual({ ok: true, value: DEFAULT_DATA_CLASS_POLICIES });
  });

  it("merges the overrides onto the defaults", () => {
    const checked = read('{"gpu":{"l2TtlSeconds":120}}');
    expect(checked.ok && checked.value.gpu).toEqual({
      ...DEFAULT_DATA_CLASS_POLICIES.gpu,
      l2TtlSeconds: 120,
    });
    expect(checked.ok && checked.value.pricing).toEqual(DEFAULT_DATA_CLASS_POLICIES.pricing);
  });

  it("names every problem, each under CACHE_POLICIES", () => {
    expect(read('{"gpu":{"l2TtlSeconds":-1},"nope":{}}')).toEqual({
      ok: false,
      problems: [
        "CACHE_POLICIES: gpu.l2TtlSeconds: must be a non-negative number",
        expect.stringMatching(/^CACHE_POLICIES: unknown data class 'nope'/),
      ],
    });
    expect(read("{gpu:")).toEqual({ ok: false, problems: ["CACHE_POLICIES: not valid JSON"] });
    expect(read("[1]")).toEqual({
      ok: false,
      problems: ["CACHE_POLICIES: must be a JSON object of data class → settings"],
    });
  });

  it("the CDK's variant checks the same way and keeps normalised text, from text or an object", () => {
    const spec = { overrides: optional("cachePolicies", policyOverridesText({ acceptStructured: true })) };
    expect(readSettings(sourceOf({ cachePolicies: { gpu: { l2TtlSeconds: 60 } } }), spec)).toEqual({
      ok: true,
      value: { overrides: '{"gpu":{"l2TtlSeconds":60}}' },
    });
    expect(readSettings(sourceOf({ cachePolicies: ' {"gpu": {"l2TtlSeconds": 60}} ' }), spec)).toEqual({
      ok: true,
      value: { overrides: '{"gpu":{"l2TtlSeconds":60}}' },
    });
    expect(readSettings(sourceOf({ cachePolicies: { gpu: { l1FreshMs: -1 } } }), spec)).toEqual({
      ok: false,
      problems: ["cachePolicies: gpu.l1FreshMs: must be a non-negative number"],
    });
  });
});
