/**
 * Redis data loss end to end, over the `npm start` pieces (dev/local/stack.ts): the Worker in
 * workerd, the real redis-server child behind the REST bridge, the sample origin, the event app.
 * GPUs are cached at the edge; E1 for one of them is acknowledged; the redis-server is killed
 * before any read (SIGKILL) and restarted empty on the same port; reads go on through the edge
 * during the outage, and an event sent then is refused (not acknowledged) and sent again after;
 * E2 for another GPU lands first after the restart. Then: no 5xx while copies existed, every read
 * within the timeouts, and E1's GPU at E1's version within the freshness bound after recovery
 * (plus the circuit breaker's cool-down, which the outage's failed reads opened), not at its
 * pre-E1 version until L1's own expiry. Wall clock, with the margins a loaded machine needs.
 */
import { describe, expect, it } from "vitest";
import { deliverEvents, originAdmin, type WebhookEvent } from "../../dev/local/marketplace-events";
import { findRedisServer } from "../../dev/local/redis-server";
import { DEFAULT_WEBHOOK_SECRET, type LocalStack, startLocalStack } from "../../dev/local/stack";
import { reportFigures } from "../support/chaos/figures";
import { LATENCY_BOUND_MS, STALENESS_BOUND_MS, WORKER_DEFAULTS } from "./harness";
import { BREAKER_COOLDOWN_MS } from "./scenario";

/** What a loaded machine adds to a wall-clock figure (HTTP through wrangler, a busy CPU). */
const WALL_MARGIN_MS = 2_000;
const OUTAGE_MS = 3_000;
/** Longer than the bound plus margins, shorter than the gpu class's L1 fresh time, which would hide the bug. */
const WATCH_MS = 15_000;

interface EdgeRead {
  readonly gpuId: string;
  readonly at: number;
  readonly ms: number;
  readonly status: number;
  readonly version: number | undefined;
  readonly xCache: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!findRedisServer())("Redis data loss end to end (local stack, real redis-server)", () => {
  it("redis-server killed and restarted empty: no 5xx, reads bounded, E1 shows within the bound after recovery", {
    timeout: 120_000,
  }, async () => {
    const stack: LocalStack = await startLocalStack({
      httpCaches: "none",
      ports: { edge: 0, origin: 0, redisRest: 0, events: 0 },
      // The outage's refused deliveries are expected: not worth a line each.
      eventLogger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    try {
      expect(stack.redisBackend).toBe("redis-server");
      const server = stack.redisServer;
      if (!server) throw new Error("the stack started no redis-server child");
      const admin = originAdmin(stack.urls.origin);
      const listed = (await (await fetch(`${stack.urls.origin}/v1/gpus?limit=6`)).json()) as {
        items: Array<{ gpuId: string }>;
      };
      const gpuIds = listed.items.map((gpu) => gpu.gpuId);
      const [e1Gpu, e2Gpu, outageGpu] = gpuIds;
      if (!e1Gpu || !e2Gpu || !outageGpu) throw new Error("the origin listed too few GPUs");

      const reads: EdgeRead[] = [];
      const read = async (gpuId: string): Promise<EdgeRead> => {
        const at = performance.now();
        const response = await fetch(`${stack.urls.edge}/v1/gpus/${gpuId}`);
        const text = await response.text();
        const record = {
          gpuId,
          at,
          ms: Math.round(performance.now() - at),
          status: response.status,
          version: response.status === 200 ? (JSON.parse(text) as { version: number }).version : undefined,
          xCache: response.headers.get("x-cache"),
        };
        reads.push(record);
        return record;
      };
      /** Delivers until the event app acknowledges (202); the refusals are counted. */
      const refused: number[] = [];
      const deliver = async (events: readonly WebhookEvent[]) => {
        for (;;) {
          const answer = await deliverEvents(stack.urls.events, DEFAULT_WEBHOOK_SECRET, events);
          if (answer.status === 202) return performance.now();
          refused.push(answer.status);
          await sleep(200);
        }
      };

      // Cached at the edge: the second read of each is an L1 hit.
      for (const gpuId of gpuIds) await read(gpuId);
      for (const gpuId of gpuIds) expect((await read(gpuId)).xCache).toBe("L1");

      // E1 acknowledged, and Redis goes before any read could sync it.
      const e1 = await admin.setGpuStatus(e1Gpu, "maintenance");
      const e1Version = e1[0]?.version ?? 0;
      const e1AckedAt = await deliver(e1);
      await server.kill();

      // The outage: reads through the edge go on; an event sent now is not acknowledged.
      const outageStarted = performance.now();
      const outageEvents = await admin.setGpuStatus(outageGpu, "maintenance");
      const outageAnswer = await deliverEvents(stack.urls.events, DEFAULT_WEBHOOK_SECRET, outageEvents);
      expect(outageAnswer.status).toBe(503);
      let index = 0;
      while (performance.now() - outageStarted < OUTAGE_MS)
        await read(gpuIds[index++ % gpuIds.length] as string);
      const outageReads = reads.filter((item) => item.at >= outageStarted);

      // Back empty on the same port; E2 lands first, then the event refused during the outage.
      await server.restart();
      const e2 = await admin.setGpuStatus(e2Gpu, "maintenance");
      await deliver(e2);
      const recoveredAt = await deliver(outageEvents);

      // E1's GPU: watched until it shows E1, which only a reset of L1 brings before its L1 expiry.
      let e1ShownAt: number | undefined;
      while (performance.now() - recoveredAt < WATCH_MS) {
        const seen = await read(e1Gpu);
        if ((seen.version ?? 0) >= e1Version) {
          e1ShownAt = seen.at;
          break;
        }
        await sleep(50);
      }
      // Every acknowledged event shows at the end.
      await sleep(WORKER_DEFAULTS.syncIntervalMs);
      const finals = new Map<string, number>();
      for (const gpuId of gpuIds) finals.set(gpuId, (await read(gpuId)).version ?? 0);
      const acknowledged = [
        { gpuId: e1Gpu, version: e1Version },
        { gpuId: e2Gpu, version: e2[0]?.version ?? 0 },
        { gpuId: outageGpu, version: outageEvents[0]?.version ?? 0 },
      ];
      const lost = acknowledged.filter((ack) => (finals.get(ack.gpuId) ?? 0) < ack.version);

      const stats = (await (
        await fetch(`${stack.urls.worker}/_cache/stats`, {
          headers: { authorization: `Bearer ${stack.operatorToken}` },
        })
      ).json()) as { logResets: number };
      const recoveryBoundMs = BREAKER_COOLDOWN_MS + STALENESS_BOUND_MS + WALL_MARGIN_MS;
      const staleness =
        e1ShownAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, e1ShownAt - recoveredAt);
      reportFigures({
        scenario: "local stack (wall clock): redis-server SIGKILLed 3 s, restarted empty, E2 first",
        reads: {
          count: reads.length,
          fiveXx: reads.filter((item) => item.status >= 500).length,
          maxLatencyMs: Math.max(...reads.map((item) => item.ms)),
          latencyBoundMs: LATENCY_BOUND_MS + WALL_MARGIN_MS,
          stalenessAfterRecoveryMs: Math.round(staleness),
          stalenessBoundMs: recoveryBoundMs,
          // E1's GPU from L1 at its pre-E1 version while Redis was gone: the isolate could not know.
          stalenessDuringFaultMs: Math.round(
            Math.max(
              0,
              ...outageReads
                .filter((item) => item.gpuId === e1Gpu && (item.version ?? 0) < e1Version)
                .map((item) => item.at - e1AckedAt),
            ),
          ),
        },
        eventsAcknowledged: acknowledged.length,
        eventsLost: lost.length,
        notes: {
          "reads during the outage": outageReads.length,
          "deliveries refused": refused.length + 1,
          "log resets": stats.logResets,
        },
      });

      expect(outageReads.length).toBeGreaterThan(10);
      expect(reads.filter((item) => item.status >= 500)).toEqual([]);
      expect(Math.max(...reads.map((item) => item.ms))).toBeLessThanOrEqual(
        LATENCY_BOUND_MS + WALL_MARGIN_MS,
      );
      expect(e1ShownAt).toBeDefined();
      expect(staleness).toBeLessThanOrEqual(recoveryBoundMs);
      expect(lost).toEqual([]);
      expect(stats.logResets).toBeGreaterThanOrEqual(1);
    } finally {
      await stack.stop();
    }
  });
});
