/**
 * The toolkit's rules (core/config/rules.ts): what each accepts, and the range it names
 * in its problems.
 */
import { describe, expect, it } from "vitest";
import {
  accept,
  commaList,
  httpUrl,
  integer,
  json,
  jsonText,
  keyPrefix,
  matching,
  type Rule,
  refuse,
  text,
  url,
} from "../../../core/config";
import { createKeyspace } from "../../../core/keys";

const accepts = <T>(rule: Rule<T>, raw: unknown) => rule.parse(raw).ok;
const acceptedValue = <T>(rule: Rule<T>, raw: unknown): T => {
  const parsed = rule.parse(raw);
  if (!parsed.ok) throw new Error(`refused ${JSON.stringify(raw)}`);
  return parsed.value;
};

describe("integer", () => {
  it("takes min..max from numbers and decimal text, and says so", () => {
    const rule = integer({ min: 1, max: 100 });
    expect(rule.expected).toBe("an integer from 1 to 100");
    expect(acceptedValue(rule, "1")).toBe(1);
    expect(acceptedValue(rule, " 100 ")).toBe(100);
    expect(acceptedValue(rule, 42)).toBe(42);
    for (const raw of ["0", "101", "1.5", "abc", " ", "0x10", "1e2", 0, 100.5, Number.NaN, true, {}])
      expect(accepts(rule, raw), String(raw)).toBe(false);
  });

  it("positive means at least 1; without a max, up to the largest safe integer", () => {
    const positive = integer({ min: 1 });
    expect(positive.expected).toBe("an integer of at least 1");
    expect(accepts(positive, "0")).toBe(false);
    expect(accepts(positive, "-5")).toBe(false);
    expect(acceptedValue(positive, String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(accepts(positive, "9007199254740993")).toBe(false);
    expect(acceptedValue(integer({ min: 0 }), "0")).toBe(0);
  });
});

describe("url", () => {
  it("httpUrl takes http and https only", () => {
    expect(httpUrl.expected).toBe("an http(s) URL");
    expect(acceptedValue(httpUrl, "https://eu1.upstash.io")).toBe("https://eu1.upstash.io");
    expect(acceptedValue(httpUrl, "http://127.0.0.1:8079/")).toBe("http://127.0.0.1:8079/");
    for (const raw of [
      "ftp://x.io",
      "redis://127.0.0.1:6379",
      "not a url",
      "example.com",
      "https://a.io/x y",
      5,
    ])
      expect(accepts(httpUrl, raw), String(raw)).toBe(false);
  });

  it("narrows to https, or takes any scheme", () => {
    const https = url({ protocols: ["https"] });
    expect(https.expected).toBe("an https:// URL");
    expect(accepts(https, "http://x.io")).toBe(false);
    expect(accepts(https, "https://x.io")).toBe(true);
    expect(url().expected).toBe("a URL");
    expect(accepts(url(), "sqs://anything")).toBe(true);
    expect(accepts(url(), "::")).toBe(false);
  });
});

describe("text and matching", () => {
  it("text takes strings of a minimum length", () => {
    expect(accepts(text(), "x")).toBe(true);
    expect(accepts(text(), 5)).toBe(false);
    const long = text({ minLength: 16 });
    expect(long.expected).toBe("text of at least 16 characters");
    expect(accepts(long, "a".repeat(15))).toBe(false);
    expect(accepts(long, "a".repeat(16))).toBe(true);
  });

  it("matching takes what its pattern matches", () => {
    const zone = matching(/^[a-f0-9]{32}$/, "a 32-character hex zone id");
    expect(zone.expected).toBe("a 32-character hex zone id");
    expect(accepts(zone, "0123456789abcdef0123456789abcdef")).toBe(true);
    expect(accepts(zone, "xyz")).toBe(false);
    expect(accepts(zone, 12)).toBe(false);
  });

  it("keyPrefix is the keyspace's own rule (core/keys.ts)", () => {
    for (const prefix of ["ec", "ec-dev", "gpu_1", "A9"]) {
      expect(accepts(keyPrefix, prefix)).toBe(true);
      expect(createKeyspace(prefix).root).toBe(`${prefix}:v1:`);
    }
    for (const prefix of ["bad prefix!", "-ec", "ec:v2", "_x"]) {
      expect(accepts(keyPrefix, prefix)).toBe(false);
      expect(() => createKeyspace(prefix)).toThrow(TypeError);
    }
  });
});

describe("commaList", () => {
  const secrets = commaList(matching(/^whsec_\w+$/, "whsec_<base64>"), { min: 1, max: 2 });

  it("splits on commas, drops blanks, and reads each entry", () => {
    expect(acceptedValue(secrets, "whsec_a")).toEqual(["whsec_a"]);
    expect(acceptedValue(secrets, " whsec_a , whsec_b ,")).toEqual(["whsec_a", "whsec_b"]);
  });

  it("names every bad entry by position (never by value) and a wrong count", () => {
    expect(secrets.parse("whsec_a,oops,whsec_c")).toEqual({
      ok: false,
      reasons: ["must list 1 to 2 entries, got 3", "entry 2 is not whsec_<base64>"],
    });
    expect(secrets.parse(",,")).toEqual({ ok: false, reasons: ["must list 1 to 2 entries, got 0"] });
    expect(secrets.parse(["whsec_a"])).toEqual({ ok: false });
  });
});

describe("json and jsonText", () => {
  const object: Rule<Record<string, unknown>> = {
    expected: "an object",
    parse: (raw) =>
      typeof raw === "object" && raw !== null && !Array.isArray(raw)
        ? accept(raw as Record<string, unknown>)
        : refuse(["must be an object"]),
  };

  it("parses JSON text, then lets the inner rule judge it", () => {
    expect(acceptedValue(json(object), '{"a":1}')).toEqual({ a: 1 });
    expect(json(object).parse("{a:")).toEqual({ ok: false, reasons: ["not valid JSON"] });
    expect(json(object).parse("[1]")).toEqual({ ok: false, reasons: ["must be an object"] });
  });

  it("takes structured values only when asked to (cdk.json holds objects)", () => {
    expect(json(object).parse({ a: 1 })).toEqual({ ok: false });
    expect(acceptedValue(json(object, { acceptStructured: true }), { a: 1 })).toEqual({ a: 1 });
  });

  it("jsonText keeps the checked value as normalised JSON text", () => {
    const rule = jsonText(object, { acceptStructured: true });
    expect(acceptedValue(rule, '{ "a" : 1 }')).toBe('{"a":1}');
    expect(acceptedValue(rule, { a: 1 })).toBe('{"a":1}');
    expect(rule.parse("[]")).toEqual({ ok: false, reasons: ["must be an object"] });
  });
});
