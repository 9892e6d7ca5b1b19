/**
 * Settings: a name in an environment (or CDK context) read by a rule. A setting that is
 * unset (undefined, null or the empty string, which is how dashboards and `.dev.vars`
 * deliver an unset variable) is missing when required and its fallback otherwise.
 * `readSettings` reads a whole table of them and reports every problem, never just the
 * first.
 */
import { type Checked, invalid, valid } from "./checked";
import type { Rule } from "./rule";

/** Where settings come from: an environment, bindings, or CDK context. */
export type SettingSource = (name: string) => unknown;

/** Settings read from a record such as `process.env` or a Worker's bindings. */
export function sourceOf(record: Readonly<Record<string, unknown>>): SettingSource {
  return (name) => record[name];
}

export function isUnset(raw: unknown): boolean {
  return raw === undefined || raw === null || raw === "";
}

export interface SettingOptions {
  /** Its value never appears in a problem (tokens, signing secrets). */
  readonly secret?: boolean;
}

export interface Setting<T> {
  readonly name: string;
  read(source: SettingSource): Checked<T>;
}

const SHOWN_LENGTH = 80;

function shown(raw: unknown, options: SettingOptions): string {
  if (options.secret) return "the value given";
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
}

function readWith<T>(name: string, rule: Rule<T>, raw: unknown, options: SettingOptions): Checked<T> {
  const parsed = rule.parse(raw);
  if (parsed.ok) return valid(parsed.value);
  const reasons = parsed.reasons ?? [`${shown(raw, options)} is not ${rule.expected}`];
  return invalid(reasons.map((reason) => `${name}: ${reason}`));
}

export function required<T>(name: string, rule: Rule<T>, options: SettingOptions = {}): Setting<T> {
  return {
    name,
    read(source) {
      const raw = source(name);
      return isUnset(raw)
        ? invalid([`${name}: missing (${rule.expected})`])
        : readWith(name, rule, raw, options);
    },
  };
}

export function optional<T>(
  name: string,
  rule: Rule<T>,
  options: SettingOptions & { readonly fallback: T },
): Setting<T>;
export function optional<T>(name: string, rule: Rule<T>, options?: SettingOptions): Setting<T | undefined>;
export function optional<T>(
  name: string,
  rule: Rule<T>,
  options: SettingOptions & { readonly fallback?: T } = {},
): Setting<T | undefined> {
  return {
    name,
    read(source) {
      const raw = source(name);
      return isUnset(raw) ? valid(options.fallback) : readWith(name, rule, raw, options);
    },
  };
}

/**
 * A feature setting with a default that an explicit empty string turns off: unset (undefined,
 * null) is `fallback`, `""` is `off`, anything else is read by `rule`. Unlike `optional`, where
 * the empty string means unset, because `NAME = ""` in wrangler.toml must be able to switch a
 * default feature off.
 */
export function switchable<T, Off>(
  name: string,
  rule: Rule<T>,
  options: SettingOptions & { readonly fallback: T; readonly off: Off },
): Setting<T | Off> {
  return {
    name,
    read(source) {
      const raw = source(name);
      if (raw === "") return valid(options.off);
      return isUnset(raw) ? valid(options.fallback) : readWith(name, rule, raw, options);
    },
  };
}

export type SettingsSpec = Readonly<Record<string, Setting<unknown>>>;

export type SettingsOf<S extends SettingsSpec> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** Every setting of `spec`, under its key, or the problems of all that have any, in the spec's order. */
export function readSettings<S extends SettingsSpec>(source: SettingSource, spec: S): Checked<SettingsOf<S>> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(spec)) {
    const checked = setting.read(source);
    if (checked.ok) values[key] = checked.value;
    else problems.push(...checked.problems);
  }
  return problems.length > 0 ? invalid(problems) : valid(values as SettingsOf<S>);
}
