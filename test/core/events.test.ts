/**
 * The webhook body contract (core/events.ts, docs/architecture.md "Event contract"): every event type
 * as the booking system sends it, batches and their limits, and every schema rule
 * refusing a body with the path of the offending field.
 */
import { describe, expect, it } from "vitest";
import { EVENT_TYPES, InvalidEventError, MAX_EVENTS_PER_BATCH, parseEventBody } from "../../core/events";
import { clone, EventFactory, nextEventId, type RawEvent } from "../support/event-fixtures";

/** The error `parseEventBody` throws for `body`; fails the test when it does not throw one. */
function refusal(body: unknown): InvalidEventError {
  try {
    parseEventBody(body);
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error(`expected an InvalidEventError for ${JSON.stringify(body).slice(0, 200)}`);
}

function expectRefused(body: unknown, path: string, message?: RegExp): InvalidEventError {
  const error = refusal(body);
  expect(error.path).toBe(path);
  expect(error.name).toBe("InvalidEventError");
  expect(error.message.startsWith(`${path || "body"}: `)).toBe(true);
  if (message) expect(error.message).toMatch(message);
  return error;
}

const factory = new EventFactory();
const oneOfEach = factory.oneOfEach();
/** Any valid event whose fields are simple to break. */
const base = (): RawEvent => clone(oneOfEach["gpu.status_changed"]);

describe("valid events", () => {
  it.each(EVENT_TYPES)("accepts %s as the origin's mutation produces it", (type) => {
    const raw = oneOfEach[type];
    const events = parseEventBody(raw);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.type).toBe(type);
    expect(event?.id).toBe(raw.id);
    expect(event?.version).toBe(raw.version);
    // Nothing is lost or renamed: the parsed data is what was sent (plus empty defaults).
    expect(event?.data).toMatchObject(raw.data);
  });

  it("fills the defaults of optional lists", () => {
    const [invalidate] = parseEventBody(factory.cacheInvalidate({ tags: ["gpu:x"] }).raw);
    expect(invalidate?.data).toEqual({ tags: ["gpu:x"], paths: [], keys: [] });
    const pricing = clone(oneOfEach["pricing.updated"]);
    delete pricing.data.gpus;
    const [event] = parseEventBody(pricing);
    expect(event?.type === "pricing.updated" && event.data.gpus).toEqual([]);
  });

  it("accepts one event of every type in one batch, in order", () => {
    const events = parseEventBody({ events: EVENT_TYPES.map((type) => oneOfEach[type]) });
    expect(events.map((event) => event.type)).toEqual([...EVENT_TYPES]);
  });

  it("accepts a batch of exactly 100 events and refuses 101 (path 'events')", () => {
    const batch = Array.from(
      { length: MAX_EVENTS_PER_BATCH },
      () => factory.cacheInvalidate({ tags: ["gpus:*:*"] }).raw,
    );
    expect(parseEventBody({ events: batch })).toHaveLength(100);
    const tooMany = [...batch, factory.cacheInvalidate({ tags: ["gpus:*:*"] }).raw];
    expectRefused({ events: tooMany }, "events", /at most 100 events per request, got 101/);
  });

  it("strips unknown fields inside an entity (entities are not strict), so they are never stored", () => {
    const raw = base();
    (raw.data.gpu as Record<string, unknown>).secret = "internal";
    const [event] = parseEventBody(raw);
    expect(event?.type === "gpu.status_changed" && event.data.gpu).not.toHaveProperty("secret");
  });

  it("accepts timestamps with an offset", () => {
    expect(parseEventBody({ ...base(), occurredAt: "2026-11-05T13:00:00+01:00" })).toHaveLength(1);
  });
});

describe("body shape", () => {
  it("refuses an empty batch, a non-array batch and a batch with other fields", () => {
    expectRefused({ events: [] }, "events", /at least one event/);
    expectRefused({ events: "all" }, "events", /must be an array/);
    expectRefused({ events: [base()], extra: true }, "", /only an 'events' field/);
  });

  it("refuses bodies that are not an event object", () => {
    expectRefused(null, "", /must be an event object/);
    expectRefused("gpu.upserted", "", /must be an event object/);
    expectRefused([base()], "", /must be an event object/);
    expectRefused({ events: [base(), 7] }, "events.1", /must be an event object/);
  });

  it("refuses an unknown or missing type, single (path 'type') and in a batch ('events.3.type')", () => {
    expectRefused({ ...base(), type: "gpu.deleted" }, "type", /unknown event type/);
    const { type: _dropped, ...untyped } = base();
    expectRefused(untyped, "type", /unknown event type/);
    const batch = [0, 1, 2, 3, 4].map(() => factory.cacheInvalidate({ tags: ["t"] }).raw as unknown);
    batch[3] = { ...base(), type: "booking.updated" };
    expectRefused({ events: batch }, "events.3.type", /unknown event type/);
  });

  it("refuses the whole batch for one bad event, naming it", () => {
    const batch = [base(), clone(oneOfEach["booking.created"]), clone(oneOfEach["orderbook.updated"])];
    batch[2] = { ...(batch[2] as RawEvent), version: (batch[2] as RawEvent).version + 1 };
    expectRefused({ events: batch }, "events.2.data.orderBook.version", /must equal the event's version/);
  });

  it("refuses duplicate ids in one batch at the later one ('events.N.id')", () => {
    const first = base();
    const batch = [
      first,
      factory.cacheInvalidate({ tags: ["a"] }).raw,
      clone(oneOfEach["orderbook.updated"]),
      { ...factory.cacheInvalidate({ tags: ["b"] }).raw, id: first.id },
    ];
    expectRefused({ events: batch }, "events.3.id", new RegExp(`duplicate event id '${first.id}'`));
    // The same id in two bodies is not the parser's business (the applier dedupes it).
    expect(parseEventBody(first)).toHaveLength(1);
    expect(parseEventBody(clone(first))).toHaveLength(1);
  });

  it("refuses unknown fields (strict envelope and data): the path is the object holding them", () => {
    expectRefused({ ...base(), extra: 1 }, "", /Unrecognized key: "extra"/);
    const withData = base();
    withData.data.note = "hi";
    expectRefused(withData, "data", /Unrecognized key: "note"/);
    expectRefused(
      { events: [base(), { ...base(), id: nextEventId(), priority: 1 }] },
      "events.1",
      /priority/,
    );
  });
});

describe("envelope rules", () => {
  it.each([["yesterday"], ["2026-11-05"], ["2026-11-05 12:00:00"], [""], [1_700_000_000_000]])(
    "refuses occurredAt %j (path 'occurredAt')",
    (occurredAt) => {
      expectRefused({ ...base(), occurredAt }, "occurredAt");
    },
  );

  it.each([[-1], [1.5], ["3"], [null]])("refuses version %j (path 'version')", (version) => {
    expectRefused({ ...base(), version }, "version");
  });

  it.each([[""], ["has space"], ["-leading-dash"], ["a/b"], ["x".repeat(201)]])(
    "refuses event id %j (path 'id')",
    (id) => {
      expectRefused({ ...base(), id }, "id");
    },
  );

  it("refuses a missing data object", () => {
    const { data: _dropped, ...withoutData } = base();
    expectRefused(withoutData, "data");
  });
});

describe("data rules, with the path of the bad field", () => {
  it.each([
    ["gpu.upserted", "data.gpu.version"],
    ["gpu.status_changed", "data.gpu.version"],
    ["booking.created", "data.gpu.version"],
    ["booking.cancelled", "data.gpu.version"],
    ["pricing.updated", "data.price.version"],
    ["provider.status_changed", "data.provider.version"],
    ["market.stats_updated", "data.stats.version"],
    ["orderbook.updated", "data.orderBook.version"],
  ] as const)("%s: the entity must be at the event's version (%s)", (type, path) => {
    const raw = clone(oneOfEach[type]);
    expectRefused({ ...raw, version: raw.version + 1 }, path, /must equal the event's version/);
    expectRefused({ ...raw, version: raw.version - 1 }, path, /must equal the event's version/);
  });

  it("booking.created: the GPU must be busy (data.gpu.status)", () => {
    const raw = clone(oneOfEach["booking.created"]);
    (raw.data.gpu as Record<string, unknown>).status = "available";
    expectRefused(raw, "data.gpu.status", /must be 'busy'/);
  });

  it("booking.cancelled: the booking must be cancelled (data.booking.status)", () => {
    const raw = clone(oneOfEach["booking.cancelled"]);
    (raw.data.booking as Record<string, unknown>).status = "confirmed";
    expectRefused(raw, "data.booking.status", /must be 'cancelled'/);
  });

  it.each(["booking.created", "booking.cancelled"] as const)(
    "%s: the GPU must be the booked one (data.gpu.gpuId)",
    (type) => {
      const raw = clone(oneOfEach[type]);
      (raw.data.booking as Record<string, unknown>).gpuId = "gpu-99999";
      expectRefused(raw, "data.gpu.gpuId", /must be the booked GPU/);
    },
  );

  it("pricing.updated: every GPU must be of the price's region and type (data.gpus)", () => {
    const raw = clone(oneOfEach["pricing.updated"]);
    const gpus = raw.data.gpus as Array<Record<string, unknown>>;
    expect(gpus.length).toBeGreaterThan(1);
    const otherRegion = clone(raw);
    (otherRegion.data.gpus as Array<Record<string, unknown>>)[1] = { ...gpus[1], region: "eu-west" };
    expectRefused(otherRegion, "data.gpus", /of the price's type and region/);
    const otherType = clone(raw);
    (otherType.data.gpus as Array<Record<string, unknown>>)[0] = { ...gpus[0], gpuType: "H100-SXM" };
    expectRefused(otherType, "data.gpus", /of the price's type and region/);
  });

  it("pricing.updated: a GPU list that is not a list is a type error at data.gpus, not a crash", () => {
    const raw = clone(oneOfEach["pricing.updated"]);
    raw.data.gpus = "gpu-00001";
    expectRefused(raw, "data.gpus", /expected array/);
  });

  it("provider.status_changed: every GPU must belong to the provider (data.gpus)", () => {
    const raw = clone(oneOfEach["provider.status_changed"]);
    const gpus = raw.data.gpus as Array<Record<string, unknown>>;
    expect(gpus.length).toBeGreaterThan(1);
    gpus[gpus.length - 1] = { ...gpus[gpus.length - 1], providerId: "prov-999" };
    expectRefused(raw, "data.gpus", /must belong to the provider/);
  });

  it("an entity field with a bad value is refused at its own path", () => {
    const raw = base();
    (raw.data.gpu as Record<string, unknown>).status = "exploded";
    expectRefused(raw, "data.gpu.status");
    const price = clone(oneOfEach["pricing.updated"]);
    (price.data.price as Record<string, unknown>).pricePerHour = -1;
    expectRefused(price, "data.price.pricePerHour");
    const book = clone(oneOfEach["orderbook.updated"]);
    (
      (book.data.orderBook as { bids: Array<Record<string, unknown>> }).bids[0] as Record<string, unknown>
    ).quantity = 0;
    expectRefused(book, "data.orderBook.bids.0.quantity");
    const gpuId = base();
    (gpuId.data.gpu as Record<string, unknown>).gpuId = "gpu 1";
    expectRefused(gpuId, "data.gpu.gpuId");
  });

  describe("cache.invalidate", () => {
    const invalidate = (data: Record<string, unknown>) => ({ ...factory.cacheInvalidate({}).raw, data });

    it("must name at least one tag, path or key (path 'data')", () => {
      expectRefused(invalidate({}), "data", /at least one tag, path or key/);
      expectRefused(invalidate({ tags: [], paths: [], keys: [] }), "data", /at least one tag, path or key/);
    });

    it("accepts each of tags, paths or keys on its own", () => {
      expect(parseEventBody(invalidate({ tags: ["gpu:gpu-00001"] }))).toHaveLength(1);
      expect(parseEventBody(invalidate({ paths: ["/v1/gpus*"] }))).toHaveLength(1);
      expect(parseEventBody(invalidate({ keys: ["gpu:gpu-00001"] }))).toHaveLength(1);
    });

    it("refuses a tag with a space or a comma, or an empty tag (data.tags.N)", () => {
      expectRefused(invalidate({ tags: ["gpu:a", "gpu b"] }), "data.tags.1", /one tag/);
      expectRefused(invalidate({ tags: ["gpu:a,gpu:b"] }), "data.tags.0", /one tag/);
      expectRefused(invalidate({ tags: [""] }), "data.tags.0");
    });

    it("refuses a key pattern or a key outside the alphabet (data.keys.N)", () => {
      expectRefused(invalidate({ keys: ["gpu:*"] }), "data.keys.0", /no patterns/);
      expectRefused(invalidate({ keys: ["gpu:gpu-1", "gpu:gpu-[12]"] }), "data.keys.1", /no patterns/);
      expectRefused(invalidate({ keys: ["gpu gpu-1"] }), "data.keys.0");
    });

    it("refuses a path that does not start with '/' (data.paths.N)", () => {
      expectRefused(invalidate({ paths: ["v1/gpus"] }), "data.paths.0", /must start with '\/'/);
      expectRefused(invalidate({ paths: ["/v1/gpus", "/v1/ gpus"] }), "data.paths.1");
    });
  });
});
