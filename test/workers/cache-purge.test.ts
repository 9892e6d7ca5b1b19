/**
 * POST /_cache/purge (workers/cache-purge/), inside workerd: the signed endpoint that purges
 * the cache in front of the Worker. Signatures are made with core/webhook-signature.ts
 * (test/core/webhook-signature.test.ts holds it to the standardwebhooks package). Workers
 * Cache's `ctx.cache` does not exist in workerd, so a recording one stands in for the
 * platform's; the HTTP front purger talks over a real socket to the recorder the global
 * setup starts (test/setup/purge-recorder.ts), each test on a path of its own.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signWebhook } from "../../core/webhook-signature";
import { createEdgeApp } from "../../workers/app";
import {
  MAX_PURGE_BODY_BYTES,
  MAX_PURGE_HEADER_BYTES,
  type WorkersCacheContext,
  type WorkersCachePurgeOptions,
  type WorkersCachePurgeResult,
} from "../../workers/cache-purge";
import { parseWorkerConfig, WorkerConfigError } from "../../workers/config";
import { buildServices } from "../../workers/index";
import { type LogRecord, recordingLog } from "../../workers/telemetry";
import { bindings, edgeGet, ManualClock, uniquePrefix } from "./support";

// workers-types' CacheContext (what the platform passes as ctx.cache) fits the structural
// type the Worker uses, and the options the Worker builds fit the platform's.
type Fits<A, B> = A extends B ? true : false;
const contextFits: Fits<CacheContext, WorkersCacheContext> = true;
const optionsFit: Fits<WorkersCachePurgeOptions, CachePurgeOptions> = true;
const resultFits: Fits<CachePurgeResult, WorkersCachePurgeResult> = true;

const RECORDER_URL = bindings.TEST_PURGE_RECORDER_URL as string;

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
const SECRET = newSecret();
const NEXT_SECRET = newSecret();
const STRANGER_SECRET = newSecret();

/** Stands in for Workers Cache: records each call and answers `result`. */
class RecordingCache implements WorkersCacheContext {
  readonly calls: Array<{ method: "purge" | "invalidate"; options: WorkersCachePurgeOptions }> = [];
  result: WorkersCachePurgeResult | Error = { success: true, errors: [] };

  purge(options: WorkersCachePurgeOptions): Promise<WorkersCachePurgeResult> {
    return this.answer("purge", options);
  }
  invalidate(options: WorkersCachePurgeOptions): Promise<WorkersCachePurgeResult> {
    return this.answer("invalidate", options);
  }
  private async answer(method: "purge" | "invalidate", options: WorkersCachePurgeOptions) {
    this.calls.push({ method, options: structuredClone(options) });
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

interface Delivery {
  readonly body: string | Uint8Array | ReadableStream<Uint8Array>;
  readonly headers?: Record<string, string>;
}

interface PurgeApp {
  readonly clock: ManualClock;
  /** The audit line of each call, in order. */
  readonly audits: () => LogRecord[];
  /** POSTs to /_cache/purge; `cache` becomes ctx.cache (absent when not given, as in workerd). */
  post(delivery: Delivery, cache?: WorkersCacheContext): Promise<Response>;
  /** Signs `body` with `secret` at the app's clock (shifted by `skewSeconds`) and POSTs it. */
  signedPost(body: unknown, cache?: WorkersCacheContext, options?: SignOptions): Promise<Response>;
}

interface SignOptions {
  readonly secret?: string;
  readonly skewSeconds?: number;
  readonly raw?: boolean;
}

function purgeApp(overrides: Record<string, string> = { PURGE_WEBHOOK_SECRETS: SECRET }): PurgeApp {
  const clock = new ManualClock(1_900_000_000_000);
  const log = recordingLog();
  const services = buildServices({ ...bindings, KEY_PREFIX: uniquePrefix(), ...overrides }, { clock, log });
  const app = createEdgeApp(() => services);
  const post: PurgeApp["post"] = async (delivery, cache) => {
    const ctx = createExecutionContext();
    const context = cache
      ? ({
          waitUntil: (promise: Promise<unknown>) => ctx.waitUntil(promise),
          passThroughOnException: () => ctx.passThroughOnException(),
          props: {},
          cache,
        } as unknown as ExecutionContext)
      : ctx;
    const response = await app.request(
      "http://edge.test/_cache/purge",
      { method: "POST", body: delivery.body, headers: delivery.headers ?? {} },
      bindings,
      context,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  return {
    clock,
    audits: () => log.records.filter(({ record }) => record.event === "audit").map(({ record }) => record),
    post,
    async signedPost(body, cache, options = {}) {
      const text = options.raw ? (body as string) : JSON.stringify(body);
      const timestamp = Math.floor(clock.now() / 1000) + (options.skewSeconds ?? 0);
      const headers = await signWebhook(
        options.secret ?? SECRET,
        `msg_${crypto.randomUUID()}`,
        timestamp,
        text,
      );
      return post({ body: text, headers: { ...headers, "Content-Type": "application/json" } }, cache);
    },
  };
}

interface Answer {
  success: boolean;
  errors: string[];
}

/** Every answer of the endpoint: JSON, never stored by any cache. */
async function answerOf(response: Response, status: number): Promise<Answer> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("CDN-Cache-Control")).toBeNull();
  expect(response.headers.get("Cache-Tag")).toBeNull();
  return (await response.json()) as Answer;
}

const UNAUTHORIZED: Answer = { success: false, errors: ["invalid or missing webhook signature"] };

/** A path of the recorder only this test uses, and what arrived there. */
function recorderPath(query = ""): { url: string; received: () => Promise<RecordedPurge[]> } {
  const path = `/front-${crypto.randomUUID()}`;
  return {
    url: `${RECORDER_URL}${path}${query}`,
    received: async () =>
      (await (
        await fetch(`${RECORDER_URL}/_recorded?path=${encodeURIComponent(path)}`)
      ).json()) as RecordedPurge[],
  };
}

interface RecordedPurge {
  path: string;
  headers: Record<string, string>;
}

describe("settings", () => {
  it("reads one secret or two, and an http(s) front URL", () => {
    const one = parseWorkerConfig({ ...bindings, PURGE_WEBHOOK_SECRETS: SECRET });
    expect(one.purgeSecrets).toEqual([SECRET]);
    expect(one.edgeCachePurgeUrl).toBeUndefined();
    const two = parseWorkerConfig({
      ...bindings,
      PURGE_WEBHOOK_SECRETS: ` ${NEXT_SECRET} , ${SECRET}`,
      EDGE_CACHE_PURGE_URL: "http://127.0.0.1:6081",
    });
    expect(two.purgeSecrets).toEqual([NEXT_SECRET, SECRET]);
    expect(two.edgeCachePurgeUrl).toBe("http://127.0.0.1:6081");
    expect(parseWorkerConfig(bindings).purgeSecrets).toBeUndefined();
  });

  it("reports every bad value together, never quoting a secret", () => {
    let error: unknown;
    try {
      parseWorkerConfig({
        ...bindings,
        PURGE_WEBHOOK_SECRETS: `${SECRET},whsec_tooshort,${NEXT_SECRET}`,
        EDGE_CACHE_PURGE_URL: "varnish:6081",
        L1_MAX_BYTES: "0",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WorkerConfigError);
    const { problems } = error as WorkerConfigError;
    expect(problems).toEqual(
      expect.arrayContaining([
        "PURGE_WEBHOOK_SECRETS: must list 1 to 2 entries, got 3",
        "PURGE_WEBHOOK_SECRETS: entry 2 is not a secret like whsec_<base64>",
        expect.stringMatching(/^EDGE_CACHE_PURGE_URL: "varnish:6081" is not an http\(s\) URL$/),
        expect.stringMatching(/^L1_MAX_BYTES: /),
      ]),
    );
    expect(problems.join("\n")).not.toContain(SECRET.slice(6));
    expect(problems.join("\n")).not.toContain("tooshort");
  });

  it("workers-types' CacheContext fits the Worker's structural type", () => {
    expect([contextFits, optionsFit, resultFits]).toEqual([true, true, true]);
  });
});

describe("without PURGE_WEBHOOK_SECRETS", () => {
  it("the endpoint does not exist: the Worker's own 404, signed or not", async () => {
    const app = purgeApp({});
    const cache = new RecordingCache();
    const signed = await app.signedPost({ tags: ["ref:regions"] }, cache);
    expect(await answerOfNotFound(signed)).toEqual({ error: "Not found" });
    expect(await answerOfNotFound(await app.post({ body: "{}" }, cache))).toEqual({ error: "Not found" });
    expect(cache.calls).toEqual([]);
    // Still a call of the endpoint: each has its audit line.
    expect(app.audits()).toEqual([
      expect.objectContaining({ result: "not-configured", status: 404, signingKeys: 0 }),
      expect.objectContaining({ result: "not-configured", status: 404, signingKeys: 0 }),
    ]);
  });

  it("the real Worker (no secret bound in the harness) answers 404, not stored", async () => {
    const response = await exports.default.fetch(
      new Request("http://edge.test/_cache/purge", { method: "POST", body: '{"purgeEverything":true}' }),
    );
    expect(await answerOfNotFound(response)).toEqual({ error: "Not found" });
  });
});

async function answerOfNotFound(response: Response): Promise<unknown> {
  expect(response.status).toBe(404);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return response.json();
}

describe("signature", () => {
  it("401 for each missing header, purging nothing", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const body = JSON.stringify({ tags: ["ref:regions"] });
    const headers = await signWebhook(SECRET, "msg_1", Math.floor(app.clock.now() / 1000), body);
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [name]: _dropped, ...rest } = headers;
      expect(await answerOf(await app.post({ body, headers: rest }, cache), 401), name).toEqual(UNAUTHORIZED);
    }
    expect(await answerOf(await app.post({ body }, cache), 401)).toEqual(UNAUTHORIZED);
    expect(cache.calls).toEqual([]);
    expect(app.audits()).toEqual(
      Array(4).fill(
        expect.objectContaining({
          action: "cache-purge",
          result: "unsigned",
          status: 401,
          refusal: "missing signature headers",
        }),
      ),
    );
  });

  it("401 for a bad signature, another secret, or a timestamp more than 5 minutes off", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const body = { tags: ["ref:regions"] };
    expect(await answerOf(await app.signedPost(body, cache, { secret: STRANGER_SECRET }), 401)).toEqual(
      UNAUTHORIZED,
    );
    expect(await answerOf(await app.signedPost(body, cache, { skewSeconds: -301 }), 401)).toEqual(
      UNAUTHORIZED,
    );
    expect(await answerOf(await app.signedPost(body, cache, { skewSeconds: 301 }), 401)).toEqual(
      UNAUTHORIZED,
    );

    const text = JSON.stringify(body);
    const headers = await signWebhook(SECRET, "msg_2", Math.floor(app.clock.now() / 1000), text);
    const forged = { ...headers, "webhook-signature": `v1,${btoa("x".repeat(32))}` };
    expect(await answerOf(await app.post({ body: text, headers: forged }, cache), 401)).toEqual(UNAUTHORIZED);
    // A signed body with one byte changed.
    const tampered = JSON.stringify({ tags: ["ref:gpu-types"] });
    expect(await answerOf(await app.post({ body: tampered, headers }, cache), 401)).toEqual(UNAUTHORIZED);

    expect(cache.calls).toEqual([]);
    expect(app.audits().map(({ result, status, refusal }) => ({ result, status, refusal }))).toEqual(
      [
        "no matching signature",
        "timestamp too old",
        "timestamp too new",
        "no matching signature",
        "no matching signature",
      ].map((refusal) => ({ result: "refused", status: 401, refusal })),
    );
    // A refused call names no signing key: none verified it.
    for (const audit of app.audits()) expect(audit.signingKey).toBeUndefined();
  });

  it("takes either secret of a rotation, and timestamps up to 5 minutes off", async () => {
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: `${NEXT_SECRET},${SECRET}` });
    const cache = new RecordingCache();
    const body = { tags: ["ref:regions"] };
    for (const options of [
      { secret: SECRET },
      { secret: NEXT_SECRET, skewSeconds: -300 },
      { skewSeconds: 300 },
    ]) {
      expect(await answerOf(await app.signedPost(body, cache, options), 200)).toEqual({
        success: true,
        errors: [],
      });
    }
    expect(cache.calls).toHaveLength(3);
    // The audit line says which key of the rotation signed: 1 is the first of PURGE_WEBHOOK_SECRETS.
    expect(
      app.audits().map(({ result, signingKey, signingKeys }) => ({ result, signingKey, signingKeys })),
    ).toEqual([
      { result: "purged", signingKey: 2, signingKeys: 2 },
      { result: "purged", signingKey: 1, signingKeys: 2 },
      { result: "purged", signingKey: 2, signingKeys: 2 },
    ]);
  });
});

describe("body", () => {
  const tooLong = "t".repeat(1025);
  const cases: Array<[string, string, string[]]> = [
    ["not JSON", "{tags:", ["body is not valid JSON"]],
    ["not an object", "[]", ["body must be a JSON object"]],
    ["null", "null", ["body must be a JSON object"]],
    ["no target", "{}", ["give one of tags, pathPrefixes, purgeEverything"]],
    [
      "two targets",
      JSON.stringify({ tags: ["a"], purgeEverything: true }),
      ["give only one of tags, pathPrefixes, purgeEverything, got tags and purgeEverything"],
    ],
    [
      "an unknown field",
      JSON.stringify({ tags: ["a"], tag: "b" }),
      ["unknown field 'tag' (known: tags, pathPrefixes, purgeEverything, mode)"],
    ],
    ["tags not an array", JSON.stringify({ tags: "a b" }), ["tags: must be an array of strings"]],
    ["no tags", JSON.stringify({ tags: [] }), ["tags: must list 1 to 100 entries, got 0"]],
    [
      "101 tags",
      JSON.stringify({ tags: Array.from({ length: 101 }, (_, index) => `t${index}`) }),
      ["tags: must list 1 to 100 entries, got 101"],
    ],
    [
      "bad tags",
      JSON.stringify({ tags: ["ok", "", tooLong, "has space", "tab\t", "é", 7] }),
      [
        "tags[1]: must be a non-empty string",
        "tags[2]: must be 1 to 1024 visible ASCII characters, no blanks",
        "tags[3]: must be 1 to 1024 visible ASCII characters, no blanks",
        "tags[4]: must be 1 to 1024 visible ASCII characters, no blanks",
        "tags[5]: must be 1 to 1024 visible ASCII characters, no blanks",
        "tags[6]: must be a non-empty string",
      ],
    ],
    [
      "bad prefixes",
      JSON.stringify({ pathPrefixes: ["/v1/gpus", "v1/gpus", "/a b"] }),
      [
        "pathPrefixes[1]: must start with '/' and be at most 1024 visible ASCII characters, no blanks",
        "pathPrefixes[2]: must start with '/' and be at most 1024 visible ASCII characters, no blanks",
      ],
    ],
    [
      "101 prefixes",
      JSON.stringify({ pathPrefixes: Array.from({ length: 101 }, (_, index) => `/p${index}`) }),
      ["pathPrefixes: must list 1 to 100 entries, got 101"],
    ],
    [
      "purgeEverything false",
      JSON.stringify({ purgeEverything: false }),
      ["purgeEverything: must be true when given"],
    ],
    [
      "a bad mode, with another problem",
      JSON.stringify({ purgeEverything: true, mode: "delete", extra: 1 }),
      [
        "unknown field 'extra' (known: tags, pathPrefixes, purgeEverything, mode)",
        'mode: must be "purge" or "invalidate"',
      ],
    ],
  ];

  it.each(cases)("400 for %s, with every reason, purging nothing", async (_label, body, errors) => {
    const app = purgeApp();
    const cache = new RecordingCache();
    expect(await answerOf(await app.signedPost(body, cache, { raw: true }), 400)).toEqual({
      success: false,
      errors,
    });
    expect(cache.calls).toEqual([]);
  });

  it("400 for a body that is not UTF-8", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]);
    const headers = await signWebhook(SECRET, "msg_3", Math.floor(app.clock.now() / 1000), bytes);
    expect(await answerOf(await app.post({ body: bytes, headers }, cache), 400)).toEqual({
      success: false,
      errors: ["body is not UTF-8 text"],
    });
    expect(cache.calls).toEqual([]);
  });

  it("400 past 128 KiB, by Content-Length before reading, and when streamed without one", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    // Signed correctly, so only the size can be what refuses it.
    const oversized = JSON.stringify({ tags: ["a"], pad: "x".repeat(MAX_PURGE_BODY_BYTES) });
    const tooLarge = { success: false, errors: [`body exceeds ${MAX_PURGE_BODY_BYTES} bytes`] };
    expect(await answerOf(await app.signedPost(oversized, cache, { raw: true }), 400)).toEqual(tooLarge);

    const headers = await signWebhook(SECRET, "msg_4", Math.floor(app.clock.now() / 1000), oversized);
    let pulled = 0;
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    expect(await answerOf(await app.post({ body: endless, headers }, cache), 400)).toEqual(tooLarge);
    // Reading stopped at the cap: the stream was never drained.
    expect(pulled).toBeLessThanOrEqual(MAX_PURGE_BODY_BYTES + 4 * chunk.byteLength);
    expect(cache.calls).toEqual([]);
  });

  it("a body stream that breaks is the error handler's 500, and still an audit line", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const headers = await signWebhook(SECRET, "msg_broken", Math.floor(app.clock.now() / 1000), "{}");
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new TypeError("stream broke"));
      },
    });
    const response = await app.post({ body: broken, headers }, cache);
    expect(response.status).toBe(500);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(cache.calls).toEqual([]);
    expect(app.audits()).toEqual([
      expect.objectContaining({ result: "error", status: 500, error: "TypeError", webhookId: "msg_broken" }),
    ]);
  });

  it("takes a body of exactly 128 KiB", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const start = '{"tags":["ref:regions"],"mode":"purge"';
    const body = `${start}${" ".repeat(MAX_PURGE_BODY_BYTES - start.length - 1)}}`;
    expect(new TextEncoder().encode(body).byteLength).toBe(MAX_PURGE_BODY_BYTES);
    expect((await app.signedPost(body, cache, { raw: true })).status).toBe(200);
  });
});

describe("through Workers Cache (ctx.cache)", () => {
  it("passes exactly the target to purge(), or to invalidate() in that mode", async () => {
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: `${RECORDER_URL}/unused` });
    const cache = new RecordingCache();
    const ok = { success: true, errors: [] };
    expect(
      await answerOf(await app.signedPost({ tags: ["ref:regions", "ref:gpu-types"] }, cache), 200),
    ).toEqual(ok);
    expect(
      await answerOf(await app.signedPost({ pathPrefixes: ["/v1/regions"], mode: "invalidate" }, cache), 200),
    ).toEqual(ok);
    expect(
      await answerOf(await app.signedPost({ purgeEverything: true, mode: "purge" }, cache), 200),
    ).toEqual(ok);
    expect(
      await answerOf(await app.signedPost({ tags: ["gpu:gpu-00001"], mode: "invalidate" }, cache), 200),
    ).toEqual(ok);
    expect(cache.calls).toStrictEqual([
      { method: "purge", options: { tags: ["ref:regions", "ref:gpu-types"] } },
      { method: "invalidate", options: { pathPrefixes: ["/v1/regions"] } },
      { method: "purge", options: { purgeEverything: true } },
      { method: "invalidate", options: { tags: ["gpu:gpu-00001"] } },
    ]);
    // One audit line per call: what was asked (kind, entry count, mode), by which key, how it ended.
    expect(
      app.audits().map(({ target, targetCount, mode, cache: purged, result, status, signingKey }) => ({
        target,
        targetCount,
        mode,
        purged,
        result,
        status,
        signingKey,
      })),
    ).toEqual([
      {
        target: "tags",
        targetCount: 2,
        mode: "purge",
        purged: "workers-cache",
        result: "purged",
        status: 200,
        signingKey: 1,
      },
      {
        target: "pathPrefixes",
        targetCount: 1,
        mode: "invalidate",
        purged: "workers-cache",
        result: "purged",
        status: 200,
        signingKey: 1,
      },
      {
        target: "purgeEverything",
        targetCount: 1,
        mode: "purge",
        purged: "workers-cache",
        result: "purged",
        status: 200,
        signingKey: 1,
      },
      {
        target: "tags",
        targetCount: 1,
        mode: "invalidate",
        purged: "workers-cache",
        result: "purged",
        status: 200,
        signingKey: 1,
      },
    ]);
  });

  it("503 with Retry-After and the cache's errors when it resolves success: false", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    cache.result = { success: false, errors: [{ code: 429, message: "rate limited" }] };
    const response = await app.signedPost({ tags: ["ref:regions"] }, cache);
    expect(response.headers.get("Retry-After")).toBe("12");
    expect(await answerOf(response, 503)).toEqual({ success: false, errors: ["rate limited (code 429)"] });
    expect(cache.calls).toHaveLength(1);
    expect(app.audits()).toEqual([
      expect.objectContaining({
        result: "failed",
        status: 503,
        cache: "workers-cache",
        errors: "rate limited (code 429)",
        webhookId: expect.stringMatching(/^msg_/),
      }),
    ]);
  });

  it("503 with Retry-After when the call itself fails", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    cache.result = new TypeError("purge unavailable");
    const response = await app.signedPost({ purgeEverything: true }, cache);
    expect(response.headers.get("Retry-After")).toBe("12");
    expect(await answerOf(response, 503)).toEqual({
      success: false,
      errors: ["TypeError: purge unavailable"],
    });
  });

  it("never stores an answer: the same delivery twice reaches the cache twice, and an HTTP cache refuses it", async () => {
    const app = purgeApp();
    const cache = new RecordingCache();
    const text = JSON.stringify({ tags: ["ref:regions"] });
    const headers = await signWebhook(SECRET, "msg_twice", Math.floor(app.clock.now() / 1000), text);
    const first = await app.post({ body: text, headers }, cache);
    const second = await app.post({ body: text, headers }, cache);
    expect(await answerOf(first.clone(), 200)).toEqual({ success: true, errors: [] });
    expect(await answerOf(second, 200)).toEqual({ success: true, errors: [] });
    expect(cache.calls).toHaveLength(2);

    // workerd's own HTTP cache (the Cache API) will not keep it, though it keeps a shareable answer.
    const key = new Request(`http://edge.test/_cache/purge?probe=${crypto.randomUUID()}`);
    await caches.default.put(key, first);
    expect(await caches.default.match(key)).toBeUndefined();
    const control = new Request(`http://edge.test/_cache/purge?control=${crypto.randomUUID()}`);
    await caches.default.put(
      control,
      new Response("kept", { headers: { "Cache-Control": "public, max-age=60" } }),
    );
    expect(await (await caches.default.match(control))?.text()).toBe("kept");
  });
});

describe("through an HTTP front cache (EDGE_CACHE_PURGE_URL, no ctx.cache)", () => {
  it("sends the protocol: PURGE with X-Purge-Tags, X-Purge-Prefixes, X-Purge-Everything, X-Purge-Mode", async () => {
    const front = recorderPath();
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: front.url });
    const ok = { success: true, errors: [] };
    expect(await answerOf(await app.signedPost({ tags: ["ref:regions", "gpus:*:*"] }), 200)).toEqual(ok);
    expect(
      await answerOf(
        await app.signedPost({ pathPrefixes: ["/v1/regions", "/v1/gpu-types"], mode: "invalidate" }),
        200,
      ),
    ).toEqual(ok);
    expect(await answerOf(await app.signedPost({ purgeEverything: true }), 200)).toEqual(ok);
    expect((await front.received()).map((purge) => purge.headers)).toEqual([
      { "x-purge-tags": "ref:regions gpus:*:*" },
      { "x-purge-prefixes": "/v1/regions /v1/gpu-types", "x-purge-mode": "invalidate" },
      { "x-purge-everything": "1" },
    ]);
  });

  it("splits a long list over requests whose header stays within the bound", async () => {
    const front = recorderPath();
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: front.url });
    const tags = Array.from(
      { length: 100 },
      (_, index) => `${String(index).padStart(3, "0")}${"t".repeat(1021)}`,
    );
    expect(await answerOf(await app.signedPost({ tags }), 200)).toEqual({ success: true, errors: [] });
    const sent = (await front.received()).map((purge) => purge.headers["x-purge-tags"] as string);
    expect(sent.length).toBeGreaterThan(1);
    for (const header of sent) expect(header.length).toBeLessThanOrEqual(MAX_PURGE_HEADER_BYTES);
    expect(sent.flatMap((header) => header.split(" "))).toEqual(tags);
  });

  it("503 with the front's Retry-After and answer when it refuses", async () => {
    const front = recorderPath("?status=429&retry-after=7");
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: front.url });
    const response = await app.signedPost({ tags: ["ref:regions"] });
    expect(response.headers.get("Retry-After")).toBe("7");
    expect(await answerOf(response, 503)).toEqual({
      success: false,
      errors: ['front cache answered 429: {"error":"told to answer 429"}'],
    });
    expect(await front.received()).toHaveLength(1);
  });

  it("503 with Retry-After when the front cannot be reached", async () => {
    // Nothing listens on port 1.
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: "http://127.0.0.1:1/" });
    const response = await app.signedPost({ purgeEverything: true });
    expect(response.headers.get("Retry-After")).toBe("12");
    const answer = await answerOf(response, 503);
    expect(answer.success).toBe(false);
    expect(answer.errors).toEqual([expect.stringMatching(/^front cache unreachable: /)]);
  });

  it("prefers ctx.cache when both exist", async () => {
    const front = recorderPath();
    const app = purgeApp({ PURGE_WEBHOOK_SECRETS: SECRET, EDGE_CACHE_PURGE_URL: front.url });
    const cache = new RecordingCache();
    expect((await app.signedPost({ tags: ["ref:regions"] }, cache)).status).toBe(200);
    expect(cache.calls).toHaveLength(1);
    expect(await front.received()).toEqual([]);
  });
});

describe("with no edge cache at all", () => {
  it("503: no ctx.cache and no EDGE_CACHE_PURGE_URL", async () => {
    const app = purgeApp();
    expect(await answerOf(await app.signedPost({ tags: ["ref:regions"] }), 503)).toEqual({
      success: false,
      errors: ["no edge cache to purge"],
    });
  });

  it("the harness's ctx (workerd) has no cache of its own", () => {
    expect((createExecutionContext() as { cache?: unknown }).cache).toBeUndefined();
  });
});

describe("the rest of the Worker", () => {
  it("a GET on the purge path is not a purge", async () => {
    const response = await edgeGet("/_cache/purge");
    expect(response.status).toBe(404);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });
});
