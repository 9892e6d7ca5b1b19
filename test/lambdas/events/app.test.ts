/**
 * The webhook app end to end on Node: Standard Webhooks verification, body rules,
 * the Redis step through the real bridge, and the purge hand-off that a retried
 * delivery completes exactly once.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import type { MarketplaceEvent } from "../../../core/events";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import { MarketplaceStore } from "../../../dev/origin/store";
import { createEventsApp, type PurgeDispatcher } from "../../../lambdas/events/app";
import { type ApplyResult, createEventApplier } from "../../../lambdas/events/apply";
import { snapshot } from "../../support/event-fixtures";

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

function setup(secrets: string[] = [newSecret()]) {
  const keys = createKeyspace(`app-${randomUUID().slice(0, 8)}`);
  const purges = new RecordingPurges();
  const app = createEventsApp({
    secrets,
    applier: createEventApplier(redis, keys, { now: () => Date.now() }, DEFAULT_DATA_CLASS_POLICIES),
    purges,
    logger: { warn: () => {}, error: () => {} },
  });
  return { app, keys, purges, secrets };
}

function bookingEvent(store: MarketplaceStore, id = `evt-${randomUUID()}`): MarketplaceEvent {
  const gpuId = store.listGpus({ status: "available" })[0]?.gpuId ?? "";
  const { booking, gpu } = store.createBooking({ gpuId, userId: "user-1" });
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
  options: { id?: string; at?: Date; omit?: string; tamper?: boolean } = {},
): Request {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const headers: Record<string, string> = {
    "content-type": "application/json",
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

  it("a body over 256 KiB", () =>
    expectRefused(JSON.stringify({ pad: "x".repeat(300 * 1024) }), { error: /exceeds 262144 bytes/ }));

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
