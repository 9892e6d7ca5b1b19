/**
 * Reading settings with the toolkit (core/config/settings.ts, checked.ts,
 * config-error.ts): every problem is collected, never just the first; empty strings
 * count as unset; secrets are never shown; checks across settings join the others.
 */
import { describe, expect, it } from "vitest";
import {
  type Checked,
  ConfigError,
  combine,
  httpUrl,
  integer,
  invalid,
  optional,
  readSettings,
  refine,
  required,
  sourceOf,
  switchable,
  text,
  valid,
  valueOrThrow,
} from "../../../core/config";

const SPEC = {
  url: required("SERVICE_URL", httpUrl),
  token: required("SERVICE_TOKEN", text({ minLength: 8 }), { secret: true }),
  retries: optional("RETRIES", integer({ min: 0, max: 5 }), { fallback: 3 }),
  label: optional("LABEL", text()),
};

const problemsOf = (checked: Checked<unknown>) => (checked.ok ? [] : checked.problems);

describe("readSettings", () => {
  it("reads every setting, with fallbacks for the unset optional ones", () => {
    expect(
      readSettings(sourceOf({ SERVICE_URL: "https://svc.example", SERVICE_TOKEN: "t0ken-long" }), SPEC),
    ).toEqual({
      ok: true,
      value: { url: "https://svc.example", token: "t0ken-long", retries: 3, label: undefined },
    });
  });

  it("collects every problem, in the spec's order", () => {
    const checked = readSettings(sourceOf({ SERVICE_URL: "ftp://svc", RETRIES: "9", LABEL: 7 }), SPEC);
    expect(problemsOf(checked)).toEqual([
      'SERVICE_URL: "ftp://svc" is not an http(s) URL',
      "SERVICE_TOKEN: missing (text of at least 8 characters)",
      'RETRIES: "9" is not an integer from 0 to 5',
      "LABEL: 7 is not text",
    ]);
  });

  it("counts empty strings (and null) as unset: missing when required, the fallback otherwise", () => {
    const checked = readSettings(
      sourceOf({ SERVICE_URL: "", SERVICE_TOKEN: null, RETRIES: "", LABEL: "" }),
      SPEC,
    );
    expect(problemsOf(checked)).toEqual([
      "SERVICE_URL: missing (an http(s) URL)",
      "SERVICE_TOKEN: missing (text of at least 8 characters)",
    ]);
    const defaults = readSettings(
      sourceOf({ SERVICE_URL: "http://svc", SERVICE_TOKEN: "t0ken-long", RETRIES: "", LABEL: "" }),
      SPEC,
    );
    expect(defaults).toMatchObject({ ok: true, value: { retries: 3, label: undefined } });
  });

  it("never shows a secret's value", () => {
    const problems = problemsOf(
      readSettings(sourceOf({ SERVICE_URL: "http://svc", SERVICE_TOKEN: "short" }), SPEC),
    );
    expect(problems).toEqual(["SERVICE_TOKEN: the value given is not text of at least 8 characters"]);
    expect(problems.join()).not.toContain("short");
  });

  it("shortens a long value it shows", () => {
    const [problem] = problemsOf(readSettings(sourceOf({ SERVICE_URL: "x".repeat(500) }), SPEC));
    expect(problem?.length).toBeLessThan(150);
    expect(problem).toMatch(/^SERVICE_URL: "x+… is not an http\(s\) URL$/);
  });
});

describe("switchable", () => {
  const spec = { feature: switchable("FEATURE", text({ minLength: 2 }), { fallback: "on", off: undefined }) };

  it("is the fallback when unset, off for an explicit empty string, and read by its rule otherwise", () => {
    expect(readSettings(sourceOf({}), spec)).toEqual({ ok: true, value: { feature: "on" } });
    expect(readSettings(sourceOf({ FEATURE: null }), spec)).toEqual({ ok: true, value: { feature: "on" } });
    expect(readSettings(sourceOf({ FEATURE: "" }), spec)).toEqual({
      ok: true,
      value: { feature: undefined },
    });
    expect(readSettings(sourceOf({ FEATURE: "xy" }), spec)).toEqual({ ok: true, value: { feature: "xy" } });
    expect(problemsOf(readSettings(sourceOf({ FEATURE: "x" }), spec))).toEqual([
      'FEATURE: "x" is not text of at least 2 characters',
    ]);
  });
});

describe("combine, refine and valueOrThrow", () => {
  const LIMITS = {
    soft: optional("SOFT_MS", integer({ min: 1 }), { fallback: 50 }),
    hard: optional("HARD_MS", integer({ min: 1 }), { fallback: 1_000 }),
  };
  const limits = (env: Record<string, string>) =>
    refine(readSettings(sourceOf(env), LIMITS), ({ soft, hard }) =>
      soft > hard ? ["SOFT_MS: must not exceed HARD_MS"] : [],
    );

  it("runs a check across settings once they are read, and joins its problem to the others", () => {
    expect(limits({ SOFT_MS: "10", HARD_MS: "20" })).toEqual({ ok: true, value: { soft: 10, hard: 20 } });
    const checked = combine({
      service: readSettings(sourceOf({}), SPEC),
      limits: limits({ SOFT_MS: "30", HARD_MS: "20" }),
    });
    expect(problemsOf(checked)).toEqual([
      "SERVICE_URL: missing (an http(s) URL)",
      "SERVICE_TOKEN: missing (text of at least 8 characters)",
      "SOFT_MS: must not exceed HARD_MS",
    ]);
    // Not compared while one of them is itself wrong.
    expect(problemsOf(limits({ SOFT_MS: "abc", HARD_MS: "20" }))).toEqual([
      'SOFT_MS: "abc" is not an integer of at least 1',
    ]);
  });

  it("combines values under their names", () => {
    expect(combine({ a: valid(1), b: valid("x") })).toEqual({ ok: true, value: { a: 1, b: "x" } });
    expect(combine({ a: invalid(["A: bad"]), b: valid("x"), c: invalid(["C: bad", "C: worse"]) })).toEqual({
      ok: false,
      problems: ["A: bad", "C: bad", "C: worse"],
    });
  });

  it("throws the runtime's ConfigError subclass listing every problem", () => {
    class ServiceConfigError extends ConfigError {
      override readonly name = "ServiceConfigError";
    }
    let caught: unknown;
    try {
      valueOrThrow(
        readSettings(sourceOf({ RETRIES: "-1" }), SPEC),
        (problems) => new ServiceConfigError("service configuration", problems),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServiceConfigError);
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ServiceConfigError;
    expect(error.name).toBe("ServiceConfigError");
    expect(error.problems).toEqual([
      "SERVICE_URL: missing (an http(s) URL)",
      "SERVICE_TOKEN: missing (text of at least 8 characters)",
      'RETRIES: "-1" is not an integer from 0 to 5',
    ]);
    expect(error.message).toBe(`invalid service configuration: ${error.problems.join("; ")}`);
    expect(valueOrThrow(valid(5), () => new Error("unused"))).toBe(5);
  });
});
