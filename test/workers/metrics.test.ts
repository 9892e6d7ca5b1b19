/**
 * `GET /_cache/metrics` (workers/metrics-page.ts): the operator token, the Prometheus text
 * format read back by a small parser of its own (HELP and TYPE before each family's samples,
 * escaped label values, one family per name), and values that move with requests.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { signWebhook } from "../../core/webhook-signature";
import { METRIC_PREFIX } from "../../workers/metrics-page";
import { Exposition, MetricNameError, PROMETHEUS_CONTENT_TYPE } from "../../workers/telemetry";
import { edgeGet, makeTestApp, type TestApp } from "./support";

const OPERATOR_TOKEN = "metrics-operator-token-012345";
const AUTH = { Authorization: `Bearer ${OPERATOR_TOKEN}` };

interface ParsedSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

/** Label values as the format writes them: `\\`, `\"` and `\n` are the only escapes. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    const name = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(at));
    if (!name) throw new Error(`bad label at '${text.slice(at)}'`);
    at += name[0].length;
    let value = "";
    for (;;) {
      const char = text[at];
      if (char === undefined) throw new Error(`unterminated label value in '${text}'`);
      at += 1;
      if (char === '"') break;
      if (char === "\\") {
        const escaped = text[at];
        at += 1;
        if (escaped === "\\") value += "\\";
        else if (escaped === '"') value += '"';
        else if (escaped === "n") value += "\n";
        else throw new Error(`bad escape \\${escaped} in '${text}'`);
      } else if (char === "\n") {
        throw new Error("raw line feed in a label value");
      } else value += char;
    }
    const label = name[1] as string;
    if (label in labels) throw new Error(`label ${label} repeated`);
    labels[label] = value;
    if (text[at] === ",") at += 1;
    else if (at < text.length) throw new Error(`expected ',' at '${text.slice(at)}'`);
  }
  return labels;
}

/** The exposition as families; throws on anything version 0.0.4 does not allow. */
function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith("\n")).toBe(true);
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  let current: Family | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const helpLine = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (helpLine) {
      if (families.has(helpLine[1] as string) || help.has(helpLine[1] as string)) {
        throw new Error(`family ${helpLine[1]} repeated`);
      }
      help.set(helpLine[1] as string, (helpLine[2] as string).replace(/\\n/g, "\n").replace(/\\\\/g, "\\"));
      continue;
    }
    const typeLine = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(
      line,
    );
    if (typeLine) {
      const name = typeLine[1] as string;
      if (!help.has(name)) throw new Error(`TYPE before HELP for ${name}`);
      current = { name, help: help.get(name) as string, type: typeLine[2] as string, samples: [] };
      families.set(name, current);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`unparseable line '${line}'`);
    if (!current || sample[1] !== current.name) throw new Error(`sample ${sample[1]} outside its family`);
    const raw = sample[3] as string;
    const value =
      raw === "NaN" ? Number.NaN : raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`bad value '${raw}'`);
    current.samples.push({ labels: parseLabels(sample[2] ?? ""), value });
  }
  return families;
}

/** The one sample of `name` whose labels include `labels`; throws when there is none or several. */
function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  if (!family) throw new Error(`no family ${name}`);
  const found = family.samples.filter((sample) =>
    Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
  );
  if (found.length !== 1)
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return (found[0] as ParsedSample).value;
}

async function scrape(app: TestApp): Promise<Map<string, Family>> {
  const response = await app.get("/_cache/metrics", AUTH);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe(PROMETHEUS_CONTENT_TYPE);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return parseExposition(await response.text());
}

describe("/_cache/metrics access", () => {
  it("the real Worker has no OPERATOR_TOKEN: 401 for everyone", async () => {
    const attempts: Array<Record<string, string>> = [{}, { Authorization: "Bearer some-token-long-enough" }];
    for (const headers of attempts) {
      const response = await edgeGet("/_cache/metrics", headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(await response.json()).toEqual({ error: "operator token required" });
    }
  });

  it("401 without the token or with a wrong one; 405 for another method", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    for (const authorization of [
      undefined,
      `Bearer ${OPERATOR_TOKEN}x`,
      OPERATOR_TOKEN,
      `Basic ${OPERATOR_TOKEN}`,
    ]) {
      const response = await app.get(
        "/_cache/metrics",
        authorization ? { Authorization: authorization } : {},
      );
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    }
    const post = await app.request("/_cache/metrics", { method: "POST", headers: AUTH });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD");
  });
});

describe("/_cache/metrics content", () => {
  it("is valid exposition: every family prefixed, with HELP and TYPE, counters ending _total", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    await app.get("/v1/gpus/gpu-01201");
    const families = await scrape(app);
    expect(families.size).toBeGreaterThan(20);
    for (const family of families.values()) {
      expect(family.name.startsWith(METRIC_PREFIX), family.name).toBe(true);
      expect(family.help.length, family.name).toBeGreaterThan(10);
      if (family.type === "counter") expect(family.name, family.name).toMatch(/_total$/);
      else expect(family.type, family.name).toBe("gauge");
      for (const sample of family.samples) expect(Number.isFinite(sample.value), family.name).toBe(true);
    }
    for (const name of [
      "hits_total",
      "misses_total",
      "answers_total",
      "stale_served_total",
      "bypass_total",
      "negative_hits_total",
      "redis_commands_total",
      "redis_errors_total",
      "origin_fetches_total",
      "origin_errors_total",
      "invalidation_syncs_total",
      "invalidation_sync_age_seconds",
      "memory_bytes",
      "memory_max_bytes",
      "requests_total",
      "data_points_total",
    ]) {
      expect(families.has(`${METRIC_PREFIX}${name}`), name).toBe(true);
    }
    expect(sampleValue(families, "gpu_edge_cache_data_points_total", { sink: "analytics-engine" })).toBe(1);
  });

  it("values move with requests: hits per tier and class, requests, memory, sync age, Redis and origin", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    const before = await scrape(app);
    expect(sampleValue(before, "gpu_edge_cache_hits_total", { tier: "l1" })).toBe(0);
    expect(before.get("gpu_edge_cache_invalidation_sync_age_seconds")?.samples).toEqual([]);
    expect(sampleValue(before, "gpu_edge_cache_memory_bytes", { structure: "l1" })).toBe(0);
    expect(sampleValue(before, "gpu_edge_cache_redis_circuit_state", { state: "closed" })).toBe(1);

    const path = "/v1/gpus/gpu-01202";
    expect((await app.get(path)).headers.get("X-Cache")).toBe("ORIGIN");
    expect((await app.get(path)).headers.get("X-Cache")).toBe("L1");
    expect((await app.get(path)).headers.get("X-Cache")).toBe("L1");
    app.clock.advance(2_500);
    const after = await scrape(app);

    expect(sampleValue(after, "gpu_edge_cache_hits_total", { tier: "l1" })).toBe(2);
    expect(sampleValue(after, "gpu_edge_cache_hits_total", { tier: "origin" })).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_misses_total", { tier: "l2" })).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_answers_total", { data_class: "gpu", tier: "l1" })).toBe(2);
    expect(sampleValue(after, "gpu_edge_cache_answers_total", { data_class: "gpu", tier: "origin" })).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_answers_total", { data_class: "pricing", tier: "l1" })).toBe(0);
    expect(
      sampleValue(after, "gpu_edge_cache_requests_total", {
        route: "/v1/gpus/:gpuId",
        data_class: "gpu",
        tier: "l1",
        status: "200",
      }),
    ).toBe(2);
    // The first scrape is a request too.
    expect(
      sampleValue(after, "gpu_edge_cache_requests_total", {
        route: "/_cache/metrics",
        tier: "none",
        status: "200",
      }),
    ).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_origin_fetches_total")).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_redis_commands_total")).toBeGreaterThan(0);
    expect(sampleValue(after, "gpu_edge_cache_invalidation_syncs_total")).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_invalidation_sync_age_seconds")).toBe(2.5);
    expect(sampleValue(after, "gpu_edge_cache_isolate_age_seconds")).toBe(2.5);
    expect(sampleValue(after, "gpu_edge_cache_memory_bytes", { structure: "l1" })).toBeGreaterThan(0);
    expect(sampleValue(after, "gpu_edge_cache_memory_entries", { structure: "l1" })).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_memory_entries", { structure: "lookup_memo" })).toBe(1);
    expect(sampleValue(after, "gpu_edge_cache_memory_max_bytes", { structure: "l1" })).toBe(
      app.services.config.l1MaxBytes,
    );
    expect(sampleValue(after, "gpu_edge_cache_data_points_total", { sink: "analytics-engine" })).toBe(4);
  });

  it("stale serves, negative hits, origin errors and Redis errors each move their counter", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN, NEGATIVE_CACHE_MS: "5000" } });
    const path = "/v1/gpus/gpu-01203";
    await app.get(path);
    app.clock.advance(31_000);
    expect((await app.get(path)).headers.get("X-Cache")).toBe("STALE");
    expect((await app.get("/v1/gpus/gpu-99999")).status).toBe(404);
    expect((await app.get("/v1/gpus/gpu-99999")).status).toBe(404);
    app.origin.failWith503();
    expect((await app.get("/v1/gpus/gpu-01204")).status).toBe(503);
    const families = await scrape(app);
    expect(sampleValue(families, "gpu_edge_cache_stale_served_total", { reason: "revalidating" })).toBe(1);
    expect(sampleValue(families, "gpu_edge_cache_negative_hits_total")).toBe(1);
    expect(sampleValue(families, "gpu_edge_cache_origin_errors_total")).toBe(1);
    expect(
      sampleValue(families, "gpu_edge_cache_requests_total", { route: "/v1/gpus/:gpuId", status: "503" }),
    ).toBe(1);
    // The origin's 404, then the negative entry's (from L1).
    for (const tier of ["origin", "l1"]) {
      expect(
        sampleValue(families, "gpu_edge_cache_requests_total", {
          route: "/v1/gpus/:gpuId",
          status: "404",
          tier,
        }),
      ).toBe(1);
    }

    const broken = makeTestApp({
      bindingOverrides: { OPERATOR_TOKEN, UPSTASH_REDIS_REST_TOKEN: "not-the-bridge-token" },
    });
    await broken.get("/v1/gpus/gpu-01205");
    const failing = await scrape(broken);
    expect(sampleValue(failing, "gpu_edge_cache_redis_errors_total")).toBe(2);
    expect(sampleValue(failing, "gpu_edge_cache_invalidation_sync_failing")).toBe(1);
  });

  it("purge calls are counted by result, as their audit lines say", async () => {
    const secret = `whsec_${btoa("metrics-purge-secret-0123456789")}`;
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN, PURGE_WEBHOOK_SECRETS: secret } });
    const body = JSON.stringify({ tags: ["ref:regions"] });
    const headers = await signWebhook(secret, "msg_metrics_1", Math.floor(app.clock.now() / 1000), body);
    // workerd has no ctx.cache and no EDGE_CACHE_PURGE_URL is set: nothing to purge (503).
    expect((await app.request("/_cache/purge", { method: "POST", body, headers })).status).toBe(503);
    expect((await app.request("/_cache/purge", { method: "POST", body })).status).toBe(401);
    const families = await scrape(app);
    expect(sampleValue(families, "gpu_edge_cache_operator_actions_total", { result: "no-edge-cache" })).toBe(
      1,
    );
    expect(sampleValue(families, "gpu_edge_cache_operator_actions_total", { result: "unsigned" })).toBe(1);
    const audits = app.log.records.filter(({ record }) => record.event === "audit");
    expect(audits.map(({ level, record }) => ({ level, ...record }))).toEqual([
      expect.objectContaining({
        level: "warn",
        action: "cache-purge",
        result: "no-edge-cache",
        status: 503,
        webhookId: "msg_metrics_1",
        signingKey: 1,
        signingKeys: 1,
        target: "tags",
        targetCount: 1,
        requestId: expect.any(String),
      }),
      expect.objectContaining({ level: "warn", result: "unsigned", status: 401 }),
    ]);
    expect(JSON.stringify(audits)).not.toContain(secret);
  });
});

describe("the exposition writer", () => {
  it("escapes label values (backslash, quote, line feed) and HELP text, and they parse back", () => {
    const awkward = 'a"b\\c\nd';
    const text = new Exposition()
      .counter("gpu_edge_cache_test_total", "Help with a \\ and a\nline feed.", [
        { labels: { route: awkward, tier: "l1" }, value: 3 },
        { value: 0 },
      ])
      .gauge("gpu_edge_cache_test_gauge", "A gauge.", [
        { value: Number.NaN },
        { labels: { x: "" }, value: 1.5 },
      ])
      .text();
    expect(text).toContain('gpu_edge_cache_test_total{route="a\\"b\\\\c\\nd",tier="l1"} 3\n');
    expect(text).toContain("# HELP gpu_edge_cache_test_total Help with a \\\\ and a\\nline feed.\n");
    const families = parseExposition(text);
    expect(families.get("gpu_edge_cache_test_total")).toEqual({
      name: "gpu_edge_cache_test_total",
      help: "Help with a \\ and a\nline feed.",
      type: "counter",
      samples: [
        { labels: { route: awkward, tier: "l1" }, value: 3 },
        { labels: {}, value: 0 },
      ],
    });
    expect(families.get("gpu_edge_cache_test_gauge")?.samples[0]?.value).toBeNaN();
  });

  it("refuses a bad metric or label name and a family added twice", () => {
    expect(() => new Exposition().counter("bad-name", "x", [])).toThrow(MetricNameError);
    expect(() =>
      new Exposition().gauge("ok_name", "x", [{ labels: { "bad-label": "v" }, value: 1 }]),
    ).toThrow(MetricNameError);
    expect(() => new Exposition().gauge("ok_name", "x", [{ labels: { __reserved: "v" }, value: 1 }])).toThrow(
      MetricNameError,
    );
    expect(() => new Exposition().gauge("twice", "x", []).counter("twice", "y", [])).toThrow(MetricNameError);
  });
});
