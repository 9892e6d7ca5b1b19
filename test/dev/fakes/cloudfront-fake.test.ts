/**
 * The local CloudFront on the wire: raw requests for what the SDK never sends
 * (no signature, malformed XML, inconsistent quantities, oversize batches), and
 * the real SDK for the happy path, idempotency, GetInvalidation and the
 * in-progress wildcard limit; with Varnish bans, the delayed ban on manual timers.
 */
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
} from "@aws-sdk/client-cloudfront";
import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CloudFrontFake, startCloudFrontFake } from "../../../dev/fakes/cloudfront-fake";
import { parseXml } from "../../../dev/fakes/xml";
import { serveApp } from "../../../dev/support/serve-app";
import { ManualClock } from "../../support/manual-clock";
import { ManualTimers } from "../../support/manual-timers";

const SIGNED =
  "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=00";
let fake: CloudFrontFake;
let client: CloudFrontClient;
const clock = new ManualClock();

beforeAll(async () => {
  fake = await startCloudFrontFake({ completeAfterMs: 60_000, now: clock.now });
  client = new CloudFrontClient({
    endpoint: fake.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await fake.close();
});
beforeEach(() => {
  fake.completeAll();
});

function batchXml(paths: readonly string[], callerReference: string, quantity = paths.length): string {
  const items = paths.map((path) => `<Path>${path}</Path>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?><InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths><Quantity>${quantity}</Quantity><Items>${items}</Items></Paths><CallerReference>${callerReference}</CallerReference></InvalidationBatch>`;
}

function post(body: string, authorization: string | null = SIGNED, distribution = "EDIST1") {
  return fetch(`${fake.url}/2020-05-31/distribution/${distribution}/invalidation`, {
    method: "POST",
    headers: { "content-type": "application/xml", ...(authorization ? { authorization } : {}) },
    body,
  });
}

async function errorOf(response: Response) {
  expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  const root = parseXml(await response.text());
  expect(root.name).toBe("ErrorResponse");
  const error = root.children.find((element) => element.name === "Error");
  const field = (name: string) => error?.children.find((element) => element.name === name)?.text;
  expect(root.children.find((element) => element.name === "RequestId")?.text).toBe(
    response.headers.get("x-amzn-requestid"),
  );
  return { status: response.status, type: field("Type"), code: field("Code"), message: field("Message") };
}

describe("CloudFront fake: wire format", () => {
  it("refuses a request without an AWS4-HMAC-SHA256 Authorization header (403 AccessDenied)", async () => {
    for (const authorization of [null, "Bearer abc", "AWS4-HMAC-SHA256"]) {
      const error = await errorOf(await post(batchXml(["/a"], "r-auth"), authorization));
      expect(error).toMatchObject({ status: 403, code: "AccessDenied", type: "Sender" });
    }
  });

  it("creates from a raw body with Paths after CallerReference (any order), 201 + Location + Invalidation XML", async () => {
    const body = `<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>r-order</CallerReference><Paths><Items><Path>/v1/a&amp;b</Path><Path>/v1/gpus*</Path></Items><Quantity>2</Quantity></Paths></InvalidationBatch>`;
    const response = await post(body);
    expect(response.status).toBe(201);
    const root = parseXml(await response.text());
    const field = (name: string) => root.children.find((element) => element.name === name)?.text;
    expect(root.name).toBe("Invalidation");
    expect(field("Status")).toBe("InProgress");
    expect(Number.isNaN(Date.parse(field("CreateTime") ?? ""))).toBe(false);
    expect(response.headers.get("location")).toBe(
      `https://cloudfront.amazonaws.com/2020-05-31/distribution/EDIST1/invalidation/${field("Id")}`,
    );
    expect(fake.purges.at(-1)).toMatchObject({
      id: field("Id"),
      callerReference: "r-order",
      paths: ["/v1/a&b", "/v1/gpus*"],
    });
  });

  it("answers MissingBody, InvalidArgument (malformed XML, wrong root, no CallerReference, bad path)", async () => {
    expect(await errorOf(await post(""))).toMatchObject({ status: 400, code: "MissingBody" });
    for (const body of [
      "<InvalidationBatch><Paths><Quantity>1</Quantity>",
      "<InvalidationBatch><Paths></Quantity></Paths></InvalidationBatch>",
      "<Other/>",
      batchXml(["/a"], ""),
      batchXml(["no-slash"], "r-bad-path"),
      '<!DOCTYPE x [<!ENTITY a "b">]><InvalidationBatch/>',
    ])
      expect(await errorOf(await post(body)), body).toMatchObject({ status: 400, code: "InvalidArgument" });
  });

  it("answers InconsistentQuantities when Quantity differs from the Items", async () => {
    const error = await errorOf(await post(batchXml(["/a", "/b"], "r-qty", 3)));
    expect(error).toMatchObject({ status: 400, code: "InconsistentQuantities" });
  });

  it("answers BatchTooLarge (413) above 3,000 paths", async () => {
    const paths = Array.from({ length: 3001 }, (_, i) => `/v1/gpus/g${i}`);
    expect(await errorOf(await post(batchXml(paths, "r-big")))).toMatchObject({
      status: 413,
      code: "BatchTooLarge",
    });
    const before = fake.purges.length;
    expect((await post(batchXml(paths.slice(0, 3000), "r-max"))).status).toBe(201);
    expect(fake.purges.length).toBe(before + 1);
  });

  it("records nothing for refused requests and exposes the record at GET /_fake/purges", async () => {
    const listed = (await (await fetch(`${fake.url}/_fake/purges`)).json()) as unknown[];
    expect(listed).toEqual(JSON.parse(JSON.stringify(fake.purges)));
    expect(
      fake.purges.some((purge) => purge.callerReference === "r-qty" || purge.callerReference === "r-big"),
    ).toBe(false);
  });
});

describe("CloudFront fake: through the real SDK", () => {
  const create = (paths: string[], reference: string) =>
    client.send(
      new CreateInvalidationCommand({
        DistributionId: "EDIST2",
        InvalidationBatch: { CallerReference: reference, Paths: { Quantity: paths.length, Items: paths } },
      }),
    );

  it("creates, and the same CallerReference + paths returns the same invalidation", async () => {
    const before = fake.purges.length;
    const first = await create(["/v1/b", "/v1/a"], "same-ref");
    const again = await create(["/v1/a", "/v1/b"], "same-ref");
    expect(first.Invalidation?.Id).toMatch(/^I[A-Z0-9]{13}$/);
    expect(again.Invalidation?.Id).toBe(first.Invalidation?.Id);
    expect(first.Location).toContain(first.Invalidation?.Id);
    expect(first.Invalidation?.InvalidationBatch?.Paths?.Items).toEqual(["/v1/b", "/v1/a"]);
    expect(first.Invalidation?.CreateTime).toBeInstanceOf(Date);
    expect(fake.purges.length).toBe(before + 1);
  });

  it("refuses a reused CallerReference with other paths (InvalidationBatchAlreadyExists)", async () => {
    await create(["/v1/x"], "reused-ref");
    await expect(create(["/v1/y"], "reused-ref")).rejects.toMatchObject({
      name: "InvalidationBatchAlreadyExists",
      $metadata: { httpStatusCode: 409 },
    });
  });

  it("reports InProgress, then Completed after completeAfterMs or completeAll()", async () => {
    const created = await create(["/v1/regions"], "status-ref");
    const id = created.Invalidation?.Id ?? "";
    const get = () => client.send(new GetInvalidationCommand({ DistributionId: "EDIST2", Id: id }));
    expect((await get()).Invalidation?.Status).toBe("InProgress");
    clock.advance(60_000);
    expect((await get()).Invalidation?.Status).toBe("Completed");
    await expect(
      client.send(new GetInvalidationCommand({ DistributionId: "EDIST2", Id: "INOPE" })),
    ).rejects.toMatchObject({ name: "NoSuchInvalidation" });

    await create(["/v1/gpu-types"], "status-ref-2");
    expect(fake.inProgress("EDIST2")).toHaveLength(1);
    fake.completeAll();
    expect(fake.inProgress("EDIST2")).toHaveLength(0);
  });

  it("answers TooManyInvalidationsInProgress above 15 wildcard paths in progress", async () => {
    const wildcards = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `/v1/orderbook/T${from + i}-x*`);
    await create(wildcards(0, 10), "wild-1");
    await create(wildcards(10, 5), "wild-2");
    await expect(create(wildcards(15, 1), "wild-3")).rejects.toMatchObject({
      name: "TooManyInvalidationsInProgress",
      $metadata: { httpStatusCode: 400 },
    });
    // Individual paths are counted separately.
    await expect(create(["/v1/regions"], "exact-ok")).resolves.toBeDefined();
    fake.completeAll();
    await expect(create(wildcards(15, 1), "wild-3")).resolves.toBeDefined();
  });

  it("injects failures that the SDK surfaces by code", async () => {
    fake.failNext(1, "TooManyInvalidationsInProgress");
    await expect(create(["/v1/a"], "inj-1")).rejects.toMatchObject({
      name: "TooManyInvalidationsInProgress",
    });
    fake.failNext(1, "AccessDenied");
    await expect(create(["/v1/a"], "inj-1")).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(create(["/v1/a"], "inj-1")).resolves.toBeDefined();
    expect(fake.requests.at(-3)).toMatchObject({ status: 400, code: "TooManyInvalidationsInProgress" });
  });

  it("answers NoSuchDistribution for an unknown distribution when distributions are listed", async () => {
    const strict = await startCloudFrontFake({ distributions: ["EKNOWN"] });
    try {
      const response = await fetch(`${strict.url}/2020-05-31/distribution/EOTHER/invalidation`, {
        method: "POST",
        headers: { authorization: SIGNED },
        body: batchXml(["/a"], "r"),
      });
      expect(await errorOf(response)).toMatchObject({ status: 404, code: "NoSuchDistribution" });
    } finally {
      await strict.close();
    }
  });
});

describe("CloudFront fake: invalidations banned on a Varnish once they complete", () => {
  /** Stands in for the back Varnish's PURGE (dev/varnish/back.vcl); test/dev/varnish/back.test.ts bans on the real one. */
  async function startBanRecorder(status = 200) {
    const received: Array<{ method: string; paths: string }> = [];
    const app = new Hono();
    app.all("*", (c) => {
      received.push({ method: c.req.method, paths: c.req.header("x-invalidation-paths") ?? "" });
      return status === 200 ? c.json({ banned: true }) : c.json({ error: "refused" }, 400);
    });
    return { received, served: await serveApp(app) };
  }

  async function withBans(
    recorderStatus: number,
    run: (context: {
      fake: CloudFrontFake;
      timers: ManualTimers;
      received: Array<{ method: string; paths: string }>;
      warnings: string[];
      create: (paths: string[], reference: string) => Promise<string>;
      statusOf: (id: string) => Promise<string | undefined>;
    }) => Promise<void>,
  ) {
    const recorder = await startBanRecorder(recorderStatus);
    const timers = new ManualTimers(new ManualClock());
    const warnings: string[] = [];
    const banned = await startCloudFrontFake({
      // Shorter than the delay: with bans, completion is the ban, not this.
      completeAfterMs: 1_000,
      now: timers.clock.now,
      varnishBans: {
        url: recorder.served.url,
        completionDelayMs: 3_000,
        timers,
        logger: { warn: (line: string) => warnings.push(line) },
      },
    });
    const sdk = new CloudFrontClient({
      endpoint: banned.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    try {
      await run({
        fake: banned,
        timers,
        received: recorder.received,
        warnings,
        create: async (paths, reference) => {
          const created = await sdk.send(
            new CreateInvalidationCommand({
              DistributionId: "EBANS",
              InvalidationBatch: {
                CallerReference: reference,
                Paths: { Quantity: paths.length, Items: paths },
              },
            }),
          );
          return created.Invalidation?.Id ?? "";
        },
        statusOf: async (id) =>
          (await sdk.send(new GetInvalidationCommand({ DistributionId: "EBANS", Id: id }))).Invalidation
            ?.Status,
      });
    } finally {
      sdk.destroy();
      await banned.close();
      await recorder.served.close();
    }
  }

  it("bans the paths after the completion delay, and only then reports Completed", async () => {
    await withBans(200, async ({ fake: banned, timers, received, create, statusOf }) => {
      const id = await create(["/v1/gpus*", "/v1/gpus/gpu-00001"], "ban-1");
      timers.advance(2_999);
      await banned.bansSettled();
      expect(received).toEqual([]);
      expect(await statusOf(id)).toBe("InProgress");
      timers.advance(1);
      await banned.bansSettled();
      expect(received).toEqual([{ method: "PURGE", paths: "/v1/gpus* /v1/gpus/gpu-00001" }]);
      expect(await statusOf(id)).toBe("Completed");
      expect(banned.bans).toEqual([
        { invalidationId: id, paths: ["/v1/gpus*", "/v1/gpus/gpu-00001"], status: "applied" },
      ]);
      // The same CallerReference is the same invalidation: nothing is banned twice.
      await create(["/v1/gpus*", "/v1/gpus/gpu-00001"], "ban-1");
      timers.advance(3_000);
      await banned.bansSettled();
      expect(received).toHaveLength(1);
    });
  });

  it("splits a large invalidation into headers Varnish accepts, every path once, in order", async () => {
    await withBans(200, async ({ fake: banned, timers, received, create }) => {
      const paths = Array.from({ length: 3_000 }, (_, i) => `/v1/gpus/gpu-${String(i).padStart(5, "0")}`);
      await create(paths, "ban-big");
      timers.advance(3_000);
      await banned.bansSettled();
      expect(received.length).toBeGreaterThan(1);
      for (const { paths: header } of received) expect(header.length).toBeLessThanOrEqual(6_000);
      expect(received.flatMap(({ paths: header }) => header.split(" "))).toEqual(paths);
    });
  });

  it("keeps an invalidation InProgress and says why when Varnish refuses the ban", async () => {
    await withBans(400, async ({ fake: banned, timers, warnings, create, statusOf }) => {
      const id = await create(["/v1/regions"], "ban-refused");
      timers.advance(3_000);
      await banned.bansSettled();
      expect(await statusOf(id)).toBe("InProgress");
      expect(banned.bans[0]).toMatchObject({ invalidationId: id, status: "failed" });
      expect(banned.bans[0]?.error).toBe('Varnish answered 400: {"error":"refused"}');
      expect(warnings[0]).toMatch(new RegExp(`invalidation ${id} not applied`));
    });
  });
});
