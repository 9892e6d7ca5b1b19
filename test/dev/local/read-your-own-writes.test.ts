/**
 * Read-your-own-writes end to end (docs/read-your-own-writes.md), in workerd: two Workers, each its
 * own workerd process (so its own isolate, L1 and cursor), on the test bridge with an
 * L1_SYNC_INTERVAL_MS of 10 minutes, so that without a token each keeps answering what its L1
 * holds; a sample origin and the event app of their own. A booking delivered to the event app
 * answers 202 with a `syncToken`; sent back as `X-Sync-Token` it makes each isolate show the
 * booking on the very next read. `npm run event` prints the token and its edge watch sends it.
 * With varnishd, the local stack's front cache (dev/varnish/front.vcl, Workers Cache's role) in
 * front of one isolate: a copy it stored for a read without a token never answers one with a token.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { compareStreamIds } from "../../../core/invalidation-log";
import { startEventsServer } from "../../../dev/local/events-server";
import { deliverEvents, originAdmin, syncTokenOf } from "../../../dev/local/marketplace-events";
import { type MiniflareWorker, startMiniflareWorker } from "../../../dev/local/miniflare-worker";
import { type OriginServer, startOriginServer } from "../../../dev/origin/server";
import { freePort } from "../../../dev/support/ports";
import { type RunningVarnish, startVarnish } from "../../../dev/varnish/varnishd";
import type { PurgeDispatcher } from "../../../lambdas/events/app";
import { parseEventsConfig } from "../../../lambdas/events/config";
import { SILENT_LOGGER } from "../../../lambdas/shared/logger";
import { uniquePrefix } from "../../support/redis";
import { varnishdForTests } from "../varnish/fixtures";

const projectRoot = fileURLToPath(new URL("../../..", import.meta.url));
const run = promisify(execFile);

/** Far longer than the test: only a token can make an isolate read the log again. */
const LONG_MS = 600_000;
const LISTING = "/v1/gpus";
const OPERATOR_TOKEN = `op-${randomBytes(12).toString("hex")}`;
const varnishd = varnishdForTests("read-your-own-writes through the front cache");

const settleAll: PurgeDispatcher = {
  dispatch: async (results) => ({ settled: results.map((result) => result.event) }),
};

interface Gpu {
  readonly gpuId: string;
  readonly status: string;
}

describe("read-your-own-writes through two isolates", () => {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const keyPrefix = uniquePrefix("ryow");
  let origin: OriginServer;
  let events: { url: string; close(): Promise<void> };
  let isolates: MiniflareWorker[] = [];
  let front: RunningVarnish | undefined;

  beforeAll(async () => {
    origin = await startOriginServer({ port: 0 });
    const redis = {
      UPSTASH_REDIS_REST_URL: inject("bridgeUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
    };
    events = await startEventsServer(
      parseEventsConfig({ ...redis, WEBHOOK_SECRETS: secret, KEY_PREFIX: keyPrefix }),
      {
        purges: settleAll,
        logger: SILENT_LOGGER,
      },
    );
    const bindings = {
      ...redis,
      ORIGIN_URL: origin.url,
      KEY_PREFIX: keyPrefix,
      L1_SYNC_INTERVAL_MS: String(LONG_MS),
      // Fresh in L1 for the whole test: no background refresh may bring the change instead.
      CACHE_POLICIES: JSON.stringify({
        availability: { l1FreshMs: LONG_MS, l1MaxMs: LONG_MS },
        // Held at the front for 10 minutes too, so a copy stored there is surely still fresh.
        gpu: { l1FreshMs: LONG_MS, l1MaxMs: LONG_MS, cdnMaxAgeSeconds: LONG_MS / 1000 },
      }),
      OPERATOR_TOKEN,
    };
    isolates = await Promise.all(
      [0, 1].map(() => startMiniflareWorker({ entry: "workers/index.ts", bindings })),
    );
    if (varnishd) {
      const { port } = new URL(isolates[0]?.url ?? "");
      front = await startVarnish({
        role: "front",
        backend: { host: "127.0.0.1", port: Number(port) },
        port: await freePort(),
        binary: varnishd,
      });
    }
  }, 60_000);

  afterAll(async () => {
    await front?.stop();
    await Promise.all(isolates.map((isolate) => isolate.stop()));
    await events?.close();
    await origin?.close();
  });

  async function read(isolate: MiniflareWorker, path: string, token?: string) {
    const response = await fetch(`${isolate.url}${path}`, {
      headers: token ? { "X-Sync-Token": token } : {},
    });
    expect(response.status, path).toBe(200);
    return { headers: response.headers, body: (await response.json()) as unknown };
  }
  const gpuStatus = async (isolate: MiniflareWorker, gpuId: string, token?: string) =>
    ((await read(isolate, `/v1/gpus/${gpuId}`, token)).body as Gpu).status;
  const listedStatus = async (isolate: MiniflareWorker, gpuId: string, token?: string) =>
    ((await read(isolate, LISTING, token)).body as { items: Gpu[] }).items.find((gpu) => gpu.gpuId === gpuId)
      ?.status;

  /** Both isolates read the GPU and the listing twice: the second read of each is from L1. */
  async function warm(gpuId: string) {
    for (const isolate of isolates) {
      for (const path of [`/v1/gpus/${gpuId}`, LISTING]) {
        await read(isolate, path);
        expect((await read(isolate, path)).headers.get("X-Cache"), path).toBe("L1");
      }
    }
  }

  /** How many GPU answers an isolate has given (/_cache/stats, every tier). */
  async function gpuAnswers(isolate: MiniflareWorker): Promise<number> {
    const response = await fetch(`${isolate.url}/_cache/stats`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    const stats = (await response.json()) as { answers: { gpu: Record<string, number> } };
    return Object.values(stats.answers.gpu).reduce((sum, count) => sum + count, 0);
  }

  async function availableGpus(): Promise<string[]> {
    const listing = (await (await fetch(`${origin.url}${LISTING}`)).json()) as { items: Gpu[] };
    return listing.items.filter((gpu) => gpu.status === "available").map((gpu) => gpu.gpuId);
  }

  it("the 202's syncToken as X-Sync-Token shows the booking on the next read in each isolate", async () => {
    const [gpuId = ""] = await availableGpus();
    await warm(gpuId);

    const { events: booking } = await originAdmin(origin.url).bookGpu(gpuId, "user-ryow");
    const answer = await deliverEvents(events.url, secret, booking);
    expect(answer.status).toBe(202);
    const token = syncTokenOf(answer);
    expect(token).toMatch(/^\d+-\d+$/);

    for (const isolate of isolates) {
      // Without the token the isolate answers from L1: the test would fail if the token did nothing.
      expect(await gpuStatus(isolate, gpuId)).toBe("available");
      expect(await listedStatus(isolate, gpuId)).toBe("available");

      const synced = await read(isolate, `/v1/gpus/${gpuId}`, token);
      expect((synced.body as Gpu).status).toBe("busy");
      expect(synced.headers.get("Vary")).toBe("X-Sync-Token");
      expect(
        compareStreamIds(synced.headers.get("X-Sync-Cursor") ?? "0-0", token ?? ""),
      ).toBeGreaterThanOrEqual(0);
      expect(await listedStatus(isolate, gpuId, token)).toBe("busy");
      // Synced now: without the token too.
      expect(await gpuStatus(isolate, gpuId)).toBe("busy");
    }
  });

  it("npm run event prints the token, and its edge watch sends it and sees the change at once", async () => {
    const [, gpuId = ""] = await availableGpus();
    await warm(gpuId);
    const [watched, other] = isolates as [MiniflareWorker, MiniflareWorker];
    const answeredBefore = await gpuAnswers(watched);

    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "dev/local/send-event.ts", "booking.created", "--gpu", gpuId, "--wait", "3000"],
      {
        cwd: projectRoot,
        env: {
          ...process.env,
          EVENTS_URL: events.url,
          ORIGIN_URL: origin.url,
          EDGE_URL: watched.url,
          WEBHOOK_SECRET: secret,
        },
        timeout: 30_000,
      },
    );
    const token = /^ {2}sync token: (\d+-\d+) \(send it as X-Sync-Token/m.exec(stdout)?.[1];
    expect(token, stdout).toBeDefined();
    expect(stdout).toMatch(new RegExp(`^edge: /v1/gpus/${gpuId} shows "status":"busy" after \\d+ ms$`, "m"));
    // The watch's first read showed it: it asked this isolate once.
    expect(await gpuAnswers(watched), stdout).toBe(answeredBefore + 1);

    // The other isolate still has the old answer in L1 until a read brings the token.
    expect(await gpuStatus(other, gpuId)).toBe("available");
    expect(await gpuStatus(other, gpuId, token)).toBe("busy");
  }, 40_000);

  it.skipIf(!varnishd)(
    "through the front cache, a copy stored without a token never answers a read with one",
    async () => {
      const [, , gpuId = ""] = await availableGpus();
      const url = `${front?.url}/v1/gpus/${gpuId}`;
      const through = async (headers: Record<string, string> = {}) => {
        const response = await fetch(url, { headers });
        const gpu = (await response.json()) as Gpu;
        return {
          cache: response.headers.get("cf-cache-status"),
          status: gpu.status,
          // Varnish or workerd may add Accept-Encoding to it.
          syncTokenVaries: /(^|,)\s*X-Sync-Token\s*(,|$)/i.test(response.headers.get("vary") ?? ""),
        };
      };
      expect((await through()).cache).toBe("MISS");
      expect(await through()).toEqual({ cache: "HIT", status: "available", syncTokenVaries: true });

      const { events: booking } = await originAdmin(origin.url).bookGpu(gpuId, "user-ryow-front");
      const token = syncTokenOf(await deliverEvents(events.url, secret, booking)) ?? "";
      expect(token).toMatch(/^\d+-\d+$/);

      // The stored copy still answers reads without a token (its front TTL is its own)...
      expect(await through()).toEqual({ cache: "HIT", status: "available", syncTokenVaries: true });
      // ...but not a read with the token: that one reaches the Worker, which syncs past it first.
      expect(await through({ "X-Sync-Token": token })).toEqual({
        cache: "MISS",
        status: "busy",
        syncTokenVaries: true,
      });
      // Its answer is stored for that token alone.
      expect(await through({ "X-Sync-Token": token })).toEqual({
        cache: "HIT",
        status: "busy",
        syncTokenVaries: true,
      });
      expect((await through({ "X-Sync-Token": "1-0" })).cache).toBe("MISS");
    },
  );
});
