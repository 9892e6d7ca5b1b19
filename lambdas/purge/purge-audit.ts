/**
 * The audit of purge calls: every request either Lambda makes to a purge endpoint (Cloudflare's
 * API, CloudFront's CreateInvalidation, the Worker's `/_cache/purge`) is one log line and three
 * metrics. The purgers report their calls here (their `onCall`, set by lambdas/purge/config.ts),
 * so an operator can answer "what did we purge, how often, and did it work" per provider.
 */
import type { Logger } from "../shared/logger";
import type { Metrics } from "../shared/metrics";
import type { PurgeCallObserver } from "./purger";

/** The `audit` field of a purge call's line: Logs Insights finds every one with `filter audit = "purge-call"`. */
export const PURGE_CALL_AUDIT = "purge-call";

export function purgeCallAudit(logger: Pick<Logger, "info" | "warn">, metrics: Metrics): PurgeCallObserver {
  return (call) => {
    const dimensions = { provider: call.provider };
    metrics.add("PurgeCalls", 1, dimensions);
    metrics.add("PurgeTargets", call.targets, dimensions);
    if (!call.ok) metrics.add("PurgeCallsFailed", 1, dimensions);
    const fields = {
      audit: PURGE_CALL_AUDIT,
      provider: call.provider,
      batchKey: call.batchKey,
      targets: call.targets,
      outcome: call.ok ? "accepted" : "failed",
      latencyMs: call.latencyMs,
      ...(call.id !== undefined ? { id: call.id } : {}),
      ...(call.error !== undefined ? { error: call.error } : {}),
    };
    if (call.ok) logger.info("purge call", fields);
    else logger.warn("purge call failed", fields);
  };
}
