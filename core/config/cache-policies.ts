/**
 * CACHE_POLICIES: JSON overrides of the data-class policies (core/data-classes.ts), e.g.
 * `{"availability":{"l1FreshMs":2000}}`, merged onto the defaults with every problem
 * listed. The Worker's fills and the event Lambda's write-through both take their TTLs
 * from the result, so both runtimes read it with this one rule.
 */
import { applyPolicyOverrides, type DataClassPolicies, DEFAULT_DATA_CLASS_POLICIES } from "../data-classes";
import { accept, type Rule, refuse } from "./rule";
import { type JsonOptions, json, jsonText } from "./rules";
import { optional, type Setting } from "./settings";

/** Overrides (already parsed JSON) merged onto the defaults. */
export const policyOverrides: Rule<DataClassPolicies> = {
  expected: "an object of data class → policy settings",
  parse: (raw) => {
    const { policies, problems } = applyPolicyOverrides(raw);
    return problems.length > 0 ? refuse(problems) : accept(policies);
  },
};

/** The merged policies; the defaults when CACHE_POLICIES is unset. */
export const cachePoliciesSetting: Setting<DataClassPolicies> = optional(
  "CACHE_POLICIES",
  json(policyOverrides),
  {
    fallback: DEFAULT_DATA_CLASS_POLICIES,
  },
);

/** The overrides checked and kept as JSON text, to be passed on as CACHE_POLICIES (the CDK app). */
export function policyOverridesText(options: JsonOptions = {}): Rule<string> {
  return jsonText(policyOverrides, options);
}
