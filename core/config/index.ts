/**
 * The configuration toolkit every runtime reads its settings with (runtime-neutral: the
 * Worker bundles it, so no schema library): settings read by rules, every problem
 * collected, one ConfigError subclass per runtime.
 */
export { cachePoliciesSetting, policyOverrides, policyOverridesText } from "./cache-policies";
export {
  type Checked,
  type CheckedValue,
  combine,
  invalid,
  mapChecked,
  problemsOf,
  refine,
  valid,
  valueOrThrow,
} from "./checked";
export { ConfigError } from "./config-error";
export { accept, type Rule, type RuleResult, refuse } from "./rule";
export { commaList, httpUrl, integer, json, jsonText, keyPrefix, matching, text, url } from "./rules";
export {
  isUnset,
  optional,
  readSettings,
  required,
  type Setting,
  type SettingOptions,
  type SettingSource,
  type SettingsOf,
  type SettingsSpec,
  sourceOf,
  switchable,
} from "./settings";
