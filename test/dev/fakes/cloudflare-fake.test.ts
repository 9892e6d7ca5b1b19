/**
 * The local Cloudflare purge API on the wire (raw fetch): Bearer auth, one kind
 * per body, 100 items at most, the v4 envelope, injected 429 / 500, the record.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CloudflareFake, startCloudflareFake } from "../../../dev/fakes/cloudflare-fake";

const TOKEN = "fake-cf-token";
let fake: CloudflareFake;

beforeAll(async () => {
  fake = await startCloudflareFake({ apiToken: TOKEN, retryAfter: "0" });
});
afterAll(async () => {
  await fake.close();
});

function purge(body: unknown, options: { token?: string | null; zone?: string; raw?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  return fetch(`${fake.url}/client/v4/zones/${options.zone ?? "zone-1"}/purge_cache`, {
    method: "POST",
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
}

describe("Cloudflare fake", () => {
  it("accepts a tag purge with the success envelope and records it", async () => {
    const before = fake.purges.length;
    const response = await purge({ tags: ["gpu:a", "gpu:b"] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      success: boolean;
      errors: unknown[];
      messages: unknown[];
      result: { id: string };
    };
    expect(body).toMatchObject({ success: true, errors: [], messages: [] });
    expect(body.result.id).toMatch(/^[0-9a-f]{32}$/);
    expect(fake.purges.slice(before)).toEqual([
      expect.objectContaining({
        zoneId: "zone-1",
        id: body.result.id,
        kind: "tags",
        items: ["gpu:a", "gpu:b"],
      }),
    ]);
    const listed = (await (await fetch(`${fake.url}/_fake/purges`)).json()) as Array<{ id: string }>;
    expect(listed.map((entry) => entry.id)).toContain(body.result.id);
  });

  it("accepts the other kinds (files as strings or {url, headers}, hosts, prefixes, purge_everything)", async () => {
    for (const body of [
      {
        files: ["https://example.com/a", { url: "https://example.com/b", headers: { "CF-IPCountry": "US" } }],
      },
      { hosts: ["www.example.com"] },
      { prefixes: ["www.example.com/v1/"] },
      { purge_everything: true },
    ])
      expect((await purge(body)).status, JSON.stringify(body)).toBe(200);
    expect(fake.purges.at(-4)?.items).toEqual(["https://example.com/a", "https://example.com/b"]);
    expect(fake.purges.at(-1)).toMatchObject({ kind: "purge_everything", items: [] });
  });

  it("answers 401 with an error envelope without a (right) bearer token", async () => {
    for (const token of [null, "wrong"]) {
      const response = await purge({ tags: ["x"] }, { token });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        success: false,
        errors: [{ code: 10000, message: "Authentication error" }],
        messages: [],
        result: null,
      });
    }
  });

  it("answers 400 for several kinds, no kind, unknown fields, bad JSON or empty lists", async () => {
    const before = fake.purges.length;
    for (const [body, raw] of [
      [{ tags: ["a"], hosts: ["h"] }, undefined],
      [{}, undefined],
      [{ tags: ["a"], extra: 1 }, undefined],
      [undefined, "{not json"],
      [{ tags: [] }, undefined],
      [{ tags: [""] }, undefined],
      [{ purge_everything: false }, undefined],
      [["tags"], undefined],
    ] as const) {
      const response = await purge(body, raw ? { raw } : {});
      expect(response.status, raw ?? JSON.stringify(body)).toBe(400);
      const envelope = (await response.json()) as {
        success: boolean;
        result: null;
        errors: Array<{ code: number }>;
      };
      expect(envelope.success).toBe(false);
      expect(envelope.result).toBeNull();
      expect(envelope.errors[0]?.code).toBeTypeOf("number");
    }
    expect(fake.purges.length).toBe(before);
  });

  it("answers 400 for more than 100 items, accepts exactly 100", async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
    const tooMany = await purge({ tags: tags(101) });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { errors: Array<{ message: string }> }).errors[0]?.message).toMatch(
      /100/,
    );
    expect((await purge({ tags: tags(100) })).status).toBe(200);
  });

  it("fails the next n requests with 429 and Retry-After, then recovers", async () => {
    fake.failNext(2, "rate-limit", "1");
    const first = await purge({ tags: ["x"] });
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(((await first.json()) as { success: boolean }).success).toBe(false);
    expect((await purge({ tags: ["x"] })).status).toBe(429);
    expect((await purge({ tags: ["x"] })).status).toBe(200);
    fake.failNext(1, "server-error");
    expect((await purge({ tags: ["x"] })).status).toBe(500);
    expect((await purge({ tags: ["x"] })).status).toBe(200);
  });
});
