/**
 * The webhook app end to end on Node: Standard Webhooks verification, body rules,
 * the Redis step through the real bridge, and the purge hand-off that a retried
 * delivery completes exactly once; what each delivery logs (ids, types, outcomes, an audit
 * line per operator invalidation, never the data) and measures.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { MAX_EVENT_BODY_BYTES, type MarketplaceEvent } from "../../../core/events";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import { MarketplaceStore } from "../../../dev/origin/store";
import { createEventsApp, type PurgeDispatcher } from "../../../lambdas/events/app";
import { type ApplyResult, createEventApplier } from "../../../lambdas/events/apply";
import { MAX_AUDITED_TAGS } from "../../../lambdas/events/delivery-report";
import { MAX_LOGGED_IDS, SILENT_LOGGER } from "../../../lambdas/shared/logger";
import { snapshot } from "../../support/event-fixtures";
import { ManualClock } from "../../support/manual-clock";
import { recordingLogger, recordingMetrics } from "../shared/recording";

const redis = new Redis({
  url: inject("bridgeUrl"),
  token: inject("bridgeToken"),
  automaticDeserialization: false,
  retry: false,
});

function newSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/** Records what it was asked to purge; settles everything unless told to fail. */
class RecordingPurges implements PurgeDispatcher {
  readonly calls: string[][] = [];
  failing = false;
  async dispatch(results: readonly ApplyResult[]) {
    this.calls.push(results.map((result) => result.event.id));
    return { settled: this.failing ? [] : results.map((result) => result.event) };
  }
}

function setup(
  secrets: string[] = [newSecret()],
  observed: Partial<Parameters<typeof createEventsApp>[0]> = {},
) {
  const keys = createKeyspace(`app-${randomUUID().slice(0, 8)}`);
  const purges = new RecordingPurges();
  const app = createEventsApp({
    secrets,
    applier: createEventApplier(redis, keys, { now: () => Date.now() }, DEFAULT_DATA_CLASS_POLICIES),
    purges,
    logger: SILENT_LOGGER,
    ...observed,
  });
  return { app, keys, purges, secrets };
}

function bookingEvent(
  store: MarketplaceStore,
  id = `evt-${randomUUID()}`,
  userId = "user-1",
): MarketplaceEvent {
  const gpuId = store.listGpus({ status: "available" })[0]?.gpuId ?? "";
  const { booking, gpu } = store.createBooking({ gpuId, userId });
  return {
    id,
    type: "booking.created",
    occurredAt: new Date().toISOString(),
    version: gpu.version,
    data: { booking, gpu },
  } as MarketplaceEvent;
}

function signedRequest(
  payload: string,
  secret: string,
  options: { id?: string; at?: Date; omit?: string; tamper?: boolean; contentType?: string } = {},
): Request {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const headers: Record<string, string> = {
    "content-type": options.contentType ?? "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, payload),
  };
  if (options.omit) delete headers[options.omit];
  return new Request("http://events.test/v1/events", {
    method: "POST",
    headers,
    body: options.tamper ? payload.replace("user-1", "user-2") : payload,
  });
}

async function logLength(keys: Keyspace): Promise<number> {
  return Number(await redis.xlen(keys.invalidationLog));
}

describe("signatures", () => {
  const store = new MarketplaceStore();

  it("a correctly signed event is applied: 202 with its status", async () => {
    const { app, keys, secrets } = setup();
    const event = bookingEvent(store);
    const response = await app.request(signedRequest(JSON.stringify(event), secrets[0] ?? ""));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      results: [{ id: event.id, type: "booking.created", status: "applied", purge: "done" }],
      syncToken: expect.stringMatching(/^\d+-\d+$/),
    });
    expect(await logLength(keys)).toBe(1);
  });

  type Variant = { secret?: "other"; tamper?: boolean; at?: Date; omit?: string };
  it.for<[string, Variant]>([
    ["a wrong secret", { secret: "other" }],
    ["a tampered body", { tamper: true }],
    ["a timestamp 6 minutes old", { at: new Date(Date.now() - 6 * 60_000) }],
    ["a timestamp 6 minutes ahead", { at: new Date(Date.now() + 6 * 60_000) }],
    ["no webhook-id", { omit: "webhook-id" }],
    ["no webhook-timestamp", { omit: "webhook-timestamp" }],
    ["no webhook-signature", { omit: "webhook-signature" }],
  ])("%s → 401 with no detail, nothing applied", async ([, variant]) => {
    const { app, keys, secrets, purges } = setup();
    const secret = variant.secret ? newSecret() : (secrets[0] ?? "");
    const response = await app.request(signedRequest(JSON.stringify(bookingEvent(store)), secret, variant));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "invalid or missing webhook signature" });
    expect(await logLength(keys)).toBe(0);
    expect(purges.calls).toEqual([]);
  });

  it("rotation: both configured secrets are accepted, a retired one is not", async () => {
    const [retired, previous, next] = [newSecret(), newSecret(), newSecret()];
    const { app } = setup([previous, next]);
    for (const secret of [previous, next]) {
      expect((await app.request(signedRequest(JSON.stringify(bookingEvent(store)), secret))).status).toBe(
        202,
      );
    }
    expect((await app.request(signedRequest(JSON.stringify(bookingEvent(store)), retired))).status).toBe(401);
  });
});

describe("bad bodies → 400 with the reason, Redis unchanged", () => {
  const store = new MarketplaceStore();

  async function expectRefused(payload: string, expected: { error: RegExp; path?: string }) {
    const { app, keys, secrets, purges } = setup();
    const response = await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; path?: string };
    expect(body.error).toMatch(expected.error);
    if (expected.path !== undefined) expect(body.path).toBe(expected.path);
    expect(await logLength(keys)).toBe(0);
    // A whole SCAN: one call of COUNT 1000 covers only part of a database the other tests filled.
    expect([...(await snapshot(redis, keys.root)).keys()]).toEqual([]);
    expect(purges.calls).toEqual([]);
  }

  it("malformed JSON", () => expectRefused("{not json", { error: /not valid JSON/ }));

  it("a batch of 101 events", () => {
    const events = Array.from({ length: 101 }, () => bookingEvent(store));
    return expectRefused(JSON.stringify({ events }), { error: /at most 100 events/, path: "events" });
  });

  it("an unknown event type", () =>
    expectRefused(JSON.stringify({ ...bookingEvent(store), type: "gpu.exploded" }), {
      error: /unknown event type/,
      path: "type",
    }));

  it("one bad event refuses the whole batch (nothing applied), naming its path", () => {
    const good = bookingEvent(store);
    const bad = JSON.parse(JSON.stringify(bookingEvent(store))) as { data: { gpu: { status: string } } };
    bad.data.gpu.status = "available";
    return expectRefused(JSON.stringify({ events: [good, bad] }), {
      error: /must be 'busy'/,
      path: "events.1.data.gpu.status",
    });
  });
});

describe("duplicates and purges", () => {
  const store = new MarketplaceStore();

  it("a re-delivered event is 'duplicate' and is not purged twice", async () => {
    const { app, keys, secrets, purges } = setup();
    const payload = JSON.stringify(bookingEvent(store));
    expect((await app.request(signedRequest(payload, secrets[0] ?? ""))).status).toBe(202);
    const again = await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(((await again.json()) as { results: Array<{ status: string }> }).results[0]?.status).toBe(
      "duplicate",
    );
    expect(purges.calls).toHaveLength(1);
    expect(await logLength(keys)).toBe(1);
  });

  it("a retry after the purges failed completes them exactly once, and applies nothing twice", async () => {
    const { app, keys, secrets, purges } = setup();
    const event = bookingEvent(store);
    const payload = JSON.stringify(event);
    purges.failing = true;
    const first = await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(((await first.json()) as { results: Array<{ purge: string }> }).results[0]?.purge).toBe("pending");

    purges.failing = false;
    const retry = await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(
      ((await retry.json()) as { results: Array<{ status: string; purge: string }> }).results[0],
    ).toMatchObject({
      status: "duplicate",
      purge: "done",
    });
    await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(purges.calls).toEqual([[event.id], [event.id]]);
    expect(await logLength(keys)).toBe(1);
  });

  it("an older version is acknowledged as 'stale' and owes no purge", async () => {
    const { app, secrets, purges } = setup();
    const newer = bookingEvent(store);
    const older = JSON.parse(JSON.stringify(newer)) as {
      id: string;
      version: number;
      data: { gpu: { version: number } };
    };
    older.id = `evt-${randomUUID()}`;
    older.version = newer.version - 1;
    older.data.gpu.version = newer.version - 1;
    await app.request(signedRequest(JSON.stringify(newer), secrets[0] ?? ""));
    const response = await app.request(signedRequest(JSON.stringify(older), secrets[0] ?? ""));
    expect(((await response.json()) as { results: Array<{ status: string }> }).results[0]?.status).toBe(
      "stale",
    );
    expect(purges.calls).toEqual([[newer.id]]);
  });
});

/** A body that hands out `chunk` on each read, `times` times, counting what was read. */
function countedBody(chunk: Uint8Array, times: number) {
  const counter = { pulls: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        counter.pulls += 1;
        if (counter.pulls > times) controller.close();
        else controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

function streamedRequest(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Request {
  return new Request("http://events.test/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

describe("body size → 413 before the body is read past the cap", () => {
  const store = new MarketplaceStore();

  it("a declared Content-Length over 256 KiB is refused without reading a byte", async () => {
    const { app, keys, purges } = setup();
    const { stream, counter } = countedBody(new Uint8Array(64 * 1024), 1024);
    const response = await app.request(
      streamedRequest(stream, { "content-length": String(64 * 1024 * 1024) }),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: `body exceeds ${MAX_EVENT_BODY_BYTES} bytes` });
    expect(counter.pulls).toBe(0);
    expect(await logLength(keys)).toBe(0);
    expect(purges.calls).toEqual([]);
  });

  it("a 64 MiB body streamed without a length stops being read at the cap", async () => {
    const { app, keys } = setup();
    const chunk = new Uint8Array(64 * 1024);
    const { stream, counter } = countedBody(chunk, 1024);
    const response = await app.request(streamedRequest(stream));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: `body exceeds ${MAX_EVENT_BODY_BYTES} bytes` });
    // The chunk that passes the cap is the last one read.
    expect(counter.pulls).toBe(MAX_EVENT_BODY_BYTES / chunk.byteLength + 1);
    expect(await logLength(keys)).toBe(0);
  });

  it("a signed body over 256 KiB is 413, nothing applied", async () => {
    const { app, keys, secrets, purges } = setup();
    const events = Array.from({ length: 100 }, () => bookingEvent(store));
    const payload = JSON.stringify({ events, pad: "x".repeat(MAX_EVENT_BODY_BYTES) });
    const response = await app.request(signedRequest(payload, secrets[0] ?? ""));
    expect(response.status).toBe(413);
    expect(await logLength(keys)).toBe(0);
    expect(purges.calls).toEqual([]);
  });
});

describe("content type → 415 unless application/json, before anything is verified or applied", () => {
  const store = new MarketplaceStore();

  it.for([
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=iso-8859-1",
    "application/jsonp",
    "",
  ])("a signed event sent as '%s' is 415 with a JSON error, nothing applied", async (contentType) => {
    const { app, keys, secrets, purges } = setup();
    const request = signedRequest(JSON.stringify(bookingEvent(store)), secrets[0] ?? "", { contentType });
    if (contentType === "") request.headers.delete("content-type");
    const response = await app.request(request);
    expect(response.status).toBe(415);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ error: "Content-Type must be application/json" });
    expect(await logLength(keys)).toBe(0);
    expect(purges.calls).toEqual([]);
  });

  it.for([
    "application/json; charset=utf-8",
    "Application/JSON;charset=UTF-8",
    'application/json; charset="utf-8"',
  ])("'%s' is accepted", async (contentType) => {
    const { app, secrets } = setup();
    const request = signedRequest(JSON.stringify(bookingEvent(store)), secrets[0] ?? "", { contentType });
    expect((await app.request(request)).status).toBe(202);
  });
});

describe("methods", () => {
  it.for(["GET", "PUT", "DELETE", "PATCH"])(
    "%s /v1/events is 405 with Allow: POST and a JSON error",
    async (method) => {
      const { app } = setup();
      const response = await app.request(
        new Request("http://events.test/v1/events", {
          method,
          ...(method === "GET" ? {} : { body: "{}", headers: { "content-type": "application/json" } }),
        }),
      );
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: string }).error).toContain(method);
    },
  );

  it("an unknown path is still 404", async () => {
    const { app } = setup();
    expect((await app.request(new Request("http://events.test/v1/other"))).status).toBe(404);
  });
});

/** Every string in `value` of at least 4 characters: the field values a log line must not show. */
function stringLeaves(value: unknown): string[] {
  if (typeof value === "string") return value.length >= 4 ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringLeaves);
  return [];
}

describe("logging on 503", () => {
  it("names the events by id and type only: no payload field, body or secret appears", async () => {
    const store = new MarketplaceStore();
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    // A wrong Redis token: @upstash/redis then throws with the whole script call, records included, in its message.
    const broken = new Redis({
      url: inject("bridgeUrl"),
      token: "not-the-bridge-token",
      automaticDeserialization: false,
      retry: false,
    });
    const secret = newSecret();
    const keys = createKeyspace(`app-${randomUUID().slice(0, 8)}`);
    const app = createEventsApp({
      secrets: [secret],
      applier: createEventApplier(broken, keys, { now: () => Date.now() }, DEFAULT_DATA_CLASS_POLICIES),
      purges: new RecordingPurges(),
      logger,
      metrics: recording.metrics,
    });
    const events = [
      bookingEvent(store, `evt-${randomUUID()}`, `user-${randomUUID()}`),
      bookingEvent(store, `evt-${randomUUID()}`, `user-${randomUUID()}`),
    ];
    const response = await app.request(signedRequest(JSON.stringify({ events }), secret, { id: "msg_503" }));
    expect(response.status).toBe(503);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "error",
      message: "webhook delivery failed: events not applied",
      fields: {
        webhookId: "msg_503",
        status: 503,
        eventCount: 2,
        eventIds: events.map((event) => event.id),
        types: ["booking.created"],
        error: expect.stringMatching(/Error/),
      },
    });
    expect(recording.total("DeliveriesUnavailable")).toBe(1);
    expect(recording.total("EventsApplied")).toBe(0);
    const logged = lines.map((line) => line.text).join("\n");
    const values = events.flatMap((event) => stringLeaves(event.data));
    expect(values.length).toBeGreaterThan(10);
    for (const value of values) expect(logged).not.toContain(value);
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain("command was");
  });
});

/** A cache.invalidate event as an operator's tool sends it. */
function invalidation(tags: string[], extra: { paths?: string[]; keys?: string[] } = {}) {
  return {
    id: `op-${randomUUID()}`,
    type: "cache.invalidate",
    occurredAt: new Date().toISOString(),
    version: 0,
    data: { tags, paths: extra.paths ?? [], keys: extra.keys ?? [] },
  };
}

describe("what a delivery logs and measures", () => {
  const store = new MarketplaceStore();

  it("one line per event and one for the delivery, all with the webhook-id; metrics per type and outcome", async () => {
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    const { app, secrets } = setup([newSecret()], { logger, metrics: recording.metrics });
    const fresh = bookingEvent(store);
    const payload = JSON.stringify({ events: [fresh] });
    await app.request(signedRequest(payload, secrets[0] ?? "", { id: "msg_first" }));
    // The same event again (a redelivery) and an older version of it (stale).
    const stale = JSON.parse(payload).events[0] as {
      id: string;
      version: number;
      data: { gpu: { version: number } };
    };
    stale.id = `evt-${randomUUID()}`;
    stale.version = fresh.version - 1;
    stale.data.gpu.version = fresh.version - 1;
    const second = await app.request(
      signedRequest(JSON.stringify({ events: [fresh, stale] }), secrets[0] ?? "", { id: "msg_second" }),
    );
    expect(second.status).toBe(202);

    expect(lines.map((line) => [line.message, line.fields.webhookId, line.fields.status])).toEqual([
      ["event", "msg_first", "applied"],
      ["webhook delivery", "msg_first", 202],
      ["event", "msg_second", "duplicate"],
      ["event", "msg_second", "stale"],
      ["webhook delivery", "msg_second", 202],
    ]);
    expect(lines[0]?.fields).toMatchObject({
      eventId: fresh.id,
      type: "booking.created",
      purge: "done",
      propagationMs: expect.any(Number),
    });
    // Propagation is an applied event's alone.
    expect(lines[2]?.fields).not.toHaveProperty("propagationMs");
    expect(lines[4]?.fields).toMatchObject({
      eventCount: 2,
      applied: 0,
      duplicate: 1,
      stale: 1,
      purgePending: 0,
      latencyMs: expect.any(Number),
      redisMs: expect.any(Number),
    });
    for (const line of lines) expect(line.fields.signingKeyId).toMatch(/^sha256:[0-9a-f]{12}$/);

    const type = { type: "booking.created" } as const;
    expect(recording.total("EventsApplied", type)).toBe(1);
    expect(recording.total("EventsDuplicate", type)).toBe(1);
    expect(recording.total("EventsStale", type)).toBe(1);
    expect(recording.values("RedisStepLatency")).toHaveLength(2);
    expect(recording.values("PropagationDelay")).toHaveLength(1);
  });

  it("measures propagation from occurredAt to the Redis step on the app's clock", async () => {
    const clock = new ManualClock(Date.parse("2026-11-05T12:00:00.000Z"));
    const recording = recordingMetrics();
    const applier = createEventApplier(
      redis,
      createKeyspace(`app-${randomUUID().slice(0, 8)}`),
      clock,
      DEFAULT_DATA_CLASS_POLICIES,
    );
    const slow: typeof applier = {
      ...applier,
      async apply(events) {
        const results = await applier.apply(events);
        clock.advance(40);
        return results;
      },
    };
    const { app, secrets } = setup([newSecret()], { applier: slow, clock, metrics: recording.metrics });
    const occurred = { ...bookingEvent(store), occurredAt: "2026-11-05T11:59:58.500Z" };
    const ahead = { ...bookingEvent(store), occurredAt: "2026-11-05T12:10:00.000Z" };
    await app.request(signedRequest(JSON.stringify({ events: [occurred, ahead] }), secrets[0] ?? ""));
    // 1.5 s before the clock plus the 40 ms step; a sender clock ahead of ours counts as 0, not below.
    expect(recording.values("PropagationDelay")).toEqual([1_540, 0]);
    expect(recording.values("RedisStepLatency")).toEqual([40]);
  });

  it("audits an operator invalidation: who signed it, what it named, what happened; the tags, bounded", async () => {
    const { lines, logger } = recordingLogger();
    const [old, current] = [newSecret(), newSecret()];
    const { app, purges } = setup([old, current], { logger });
    const tags = Array.from({ length: MAX_AUDITED_TAGS + 5 }, (_, index) => `custom:tag-${index}`);
    const event = invalidation(tags, { paths: ["/v1/gpus*"], keys: ["gpu:gpu-00001", "gpu:gpu-00002"] });
    purges.failing = true;
    const response = await app.request(signedRequest(JSON.stringify(event), current ?? "", { id: "msg_op" }));
    expect(response.status).toBe(202);

    const audit = lines.filter((line) => line.fields.audit === "cache.invalidate");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      level: "info",
      message: "operator cache invalidation",
      fields: {
        webhookId: "msg_op",
        // The key that signed it: the current one of the two, by the fingerprint an operator can compute.
        signingKeyId: `sha256:${createHash("sha256")
          .update(current ?? "")
          .digest("hex")
          .slice(0, 12)}`,
        eventId: event.id,
        type: "cache.invalidate",
        status: "applied",
        purge: "pending",
        tagCount: MAX_AUDITED_TAGS + 5,
        pathCount: 1,
        keyCount: 2,
        tags: tags.slice(0, MAX_AUDITED_TAGS),
      },
    });
    // A delivery carries one line per event, and the audit line is this event's.
    expect(lines.filter((line) => line.message === "event")).toEqual([]);
    expect(lines.at(-1)?.fields).toMatchObject({ purgePending: 1 });
  });

  it("a refused delivery: one warning with the status and why, never the body; no webhook-id before the signature", async () => {
    const { lines, logger } = recordingLogger();
    const recording = recordingMetrics();
    const { app, secrets } = setup([newSecret()], { logger, metrics: recording.metrics });
    const event = bookingEvent(store);
    const payload = JSON.stringify(event);
    await app.request(signedRequest(payload, newSecret(), { id: "msg_forged" }));
    await app.request(signedRequest(payload, secrets[0] ?? "", { contentType: "text/plain" }));
    const bad = JSON.stringify({ ...event, type: "gpu.exploded" });
    await app.request(signedRequest(bad, secrets[0] ?? "", { id: "msg_bad" }));

    expect(lines.map((line) => [line.level, line.fields.status, line.fields.reason])).toEqual([
      ["warn", 401, "signature: No matching signature found"],
      ["warn", 415, "content type"],
      ["warn", 400, "invalid event"],
    ]);
    expect(lines[0]?.fields).not.toHaveProperty("webhookId");
    expect(lines[2]?.fields).toMatchObject({ webhookId: "msg_bad", path: "type" });
    expect(recording.total("DeliveriesRefused")).toBe(3);
    const logged = lines.map((line) => line.text).join("\n");
    for (const value of stringLeaves(event.data)) expect(logged).not.toContain(value);
    expect(logged).not.toContain("msg_forged");
  });

  it("names at most MAX_LOGGED_IDS events in the 503 line of a large delivery, and counts them all", async () => {
    const { lines, logger } = recordingLogger();
    const broken = createEventApplier(
      new Redis({ url: inject("bridgeUrl"), token: "wrong", automaticDeserialization: false, retry: false }),
      createKeyspace(`app-${randomUUID().slice(0, 8)}`),
      { now: () => Date.now() },
      DEFAULT_DATA_CLASS_POLICIES,
    );
    const { app, secrets } = setup([newSecret()], { logger, applier: broken });
    const events = Array.from({ length: MAX_LOGGED_IDS + 10 }, () => invalidation(["custom:x"]));
    expect((await app.request(signedRequest(JSON.stringify({ events }), secrets[0] ?? ""))).status).toBe(503);
    expect(lines[0]?.fields).toMatchObject({
      eventCount: MAX_LOGGED_IDS + 10,
      eventIds: events.slice(0, MAX_LOGGED_IDS).map((event) => event.id),
    });
  });
});
