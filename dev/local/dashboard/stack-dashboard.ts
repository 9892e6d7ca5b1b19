/**
 * The dashboard over a running local stack (dev/local/stack.ts): which of the stack's parts
 * each counter is read from. The Varnish tiers need the caches' work directories and
 * varnishstat; without them the tier reads as unavailable, with the reason.
 */
import { systemClock } from "../../../core/time/clock";
import type { RunningBridge } from "../../bridge/server";
import type { RunningVarnish } from "../../varnish/varnishd";
import { type EventPipeline, RETRY_DLQ, RETRY_QUEUE } from "../event-pipeline";
import { type RunningDashboard, startDashboardServer } from "./server";
import { createSnapshotReader } from "./snapshot";
import type { Unavailable, VarnishTier } from "./snapshot-types";
import { findVarnishstat, readVarnishCounters } from "./varnish-stats";

export interface StackDashboardOptions {
  readonly port?: number;
  readonly bridge: Pick<RunningBridge, "usage">;
  readonly pipeline: EventPipeline;
  /** The Worker itself (not the front cache), and the token of its /_cache/stats. */
  readonly workerUrl: string;
  readonly operatorToken: string;
  /** The stack's Varnish caches, or why it runs none. */
  readonly httpCaches:
    | { readonly front: Pick<RunningVarnish, "workDir">; readonly back: Pick<RunningVarnish, "workDir"> }
    | { readonly none: string };
}

export function startStackDashboard(options: StackDashboardOptions): Promise<RunningDashboard> {
  const { pipeline, httpCaches } = options;
  const varnishstat = findVarnishstat();
  const varnishTier = (role: "front" | "back"): (() => Promise<VarnishTier | Unavailable>) => {
    if ("none" in httpCaches) return async () => ({ unavailable: httpCaches.none });
    if (!varnishstat)
      return async () => ({ unavailable: "varnishstat not found (it comes with the varnish package)" });
    const { workDir } = httpCaches[role];
    return () => readVarnishCounters(varnishstat, workDir);
  };
  const snapshot = createSnapshotReader({
    clock: systemClock,
    workerStats: { url: `${options.workerUrl}/_cache/stats`, operatorToken: options.operatorToken },
    redisUsage: options.bridge.usage,
    eventCounts: pipeline.eventCounts,
    cloudflareFake: pipeline.cloudflareFake,
    cloudfrontFake: pipeline.cloudfrontFake,
    workersCachePurges: () => ({
      sent: pipeline.workersCachePurgeCalls(),
      accepted: pipeline.workersCachePurgesAccepted(),
    }),
    ...(pipeline.sqsFake
      ? { retryQueues: { sqs: pipeline.sqsFake, queue: RETRY_QUEUE, deadLetterQueue: RETRY_DLQ } }
      : {}),
    varnish: { front: varnishTier("front"), back: varnishTier("back") },
  });
  return startDashboardServer({ snapshot, ...(options.port !== undefined ? { port: options.port } : {}) });
}
