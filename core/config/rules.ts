/**
 * The rules settings are read with (core/config/rule.ts). Text arrives as strings from
 * environments and `-c` flags, but as JSON values from wrangler.toml vars and cdk.json,
 * so `integer` takes either, and the JSON rules do when asked.
 */
import { KEY_PREFIX_PATTERN, KEY_PREFIX_RULE } from "../keys";
import { accept, type Rule, refuse } from "./rule";

/** Any string, at least `minLength` characters long. */
export function text(options: { readonly minLength?: number } = {}): Rule<string> {
  const minLength = options.minLength ?? 1;
  return {
    expected: minLength > 1 ? `text of at least ${minLength} characters` : "text",
    parse: (raw) => (typeof raw === "string" && raw.length >= minLength ? accept(raw) : refuse()),
  };
}

/** A string the whole of which `pattern` matches. */
export function matching(pattern: RegExp, expected: string): Rule<string> {
  return {
    expected,
    parse: (raw) => (typeof raw === "string" && pattern.test(raw) ? accept(raw) : refuse()),
  };
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = {
  "http,https": "an http(s) URL",
  https: "an https:// URL",
};

/** An absolute URL, as given; `protocols` without the colon (default: any). */
export function url(options: { readonly protocols?: readonly string[] } = {}): Rule<string> {
  const protocols = options.protocols;
  const expected =
    protocols === undefined
      ? "a URL"
      : (PROTOCOL_NAMES[[...protocols].sort().join(",")] ?? `a URL (${protocols.join(", ")})`);
  return {
    expected,
    parse: (raw) => {
      // A URL with blanks parses (they are escaped), but in a setting they are a paste error.
      if (typeof raw !== "string" || /\s/.test(raw) || !URL.canParse(raw)) return refuse();
      const protocol = new URL(raw).protocol.slice(0, -1);
      return protocols === undefined || protocols.includes(protocol) ? accept(raw) : refuse();
    },
  };
}

/** The URLs the services are reached at. */
export const httpUrl: Rule<string> = url({ protocols: ["http", "https"] });

// Not Number()'s grammar: "0x10", "1e3" or "" meaning 16, 1000 or 0 would surprise.
const DECIMAL = /^\s*[+-]?\d+\s*$/;

/**
 * A whole number from `min` to `max` (default: the largest safe integer), as a number or
 * as decimal text. `min: 1` is what "positive" means in every setting.
 */
export function integer(options: { readonly min: number; readonly max?: number }): Rule<number> {
  const { min } = options;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return {
    expected:
      options.max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`,
    parse: (raw) => {
      const value =
        typeof raw === "number"
          ? raw
          : typeof raw === "string" && DECIMAL.test(raw)
            ? Number(raw)
            : Number.NaN;
      return Number.isSafeInteger(value) && value >= min && value <= max ? accept(value) : refuse();
    },
  };
}

/** Comma-separated entries (blanks around them dropped), each read by `entry`. */
export function commaList<T>(
  entry: Rule<T>,
  options: { readonly min: number; readonly max: number },
): Rule<T[]> {
  const { min, max } = options;
  const count = min === max ? `${min}` : `${min} to ${max}`;
  return {
    expected: `${count} comma-separated entries, each ${entry.expected}`,
    parse: (raw) => {
      if (typeof raw !== "string") return refuse();
      const entries = raw
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean);
      const reasons: string[] = [];
      if (entries.length < min || entries.length > max)
        reasons.push(`must list ${count} entries, got ${entries.length}`);
      const values: T[] = [];
      for (const [index, part] of entries.entries()) {
        const parsed = entry.parse(part);
        if (parsed.ok) values.push(parsed.value);
        // The entry is named by position only: a list of secrets must not be quoted.
        else reasons.push(`entry ${index + 1} is not ${entry.expected}`);
      }
      return reasons.length > 0 ? refuse(reasons) : accept(values);
    },
  };
}

export interface JsonOptions {
  /** Also take a value that is structured already (cdk.json, a JSON var in wrangler.toml). */
  readonly acceptStructured?: boolean;
}

function readJson(
  raw: unknown,
  options: JsonOptions,
): { ok: true; value: unknown } | { ok: false; reason?: string } {
  if (typeof raw !== "string") return options.acceptStructured ? { ok: true, value: raw } : { ok: false };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
}

/** JSON text, parsed, then read by `inner`. */
export function json<T>(inner: Rule<T>, options: JsonOptions = {}): Rule<T> {
  return {
    expected: `JSON: ${inner.expected}`,
    parse: (raw) => {
      const parsed = readJson(raw, options);
      if (!parsed.ok) return refuse(parsed.reason ? [parsed.reason] : undefined);
      return inner.parse(parsed.value);
    },
  };
}

/** As `json`, but keeps JSON text (normalised) once `inner` accepts it: for passing a setting on. */
export function jsonText(inner: Rule<unknown>, options: JsonOptions = {}): Rule<string> {
  return {
    expected: `JSON: ${inner.expected}`,
    parse: (raw) => {
      const parsed = readJson(raw, options);
      if (!parsed.ok) return refuse(parsed.reason ? [parsed.reason] : undefined);
      const checked = inner.parse(parsed.value);
      return checked.ok ? accept(JSON.stringify(parsed.value)) : checked;
    },
  };
}

/** A Redis key prefix (core/keys.ts holds the rule). */
export const keyPrefix: Rule<string> = matching(KEY_PREFIX_PATTERN, KEY_PREFIX_RULE);
