/**
 * Idempotency: a `CallerReference` is a hash of the batch key and the sorted paths of the
 * call, so a retried batch (same key, same paths) is the same invalidation to CloudFront,
 * never a second one, even from a fresh process.
 */
import { createHash } from "node:crypto";

/** Deterministic: the same batch key and the same set of paths give the same reference. */
export function callerReferenceFor(batchKey: string, paths: readonly string[]): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([batchKey, [...new Set(paths)].sort()]))
    .digest("hex");
  return `ec-${digest.slice(0, 40)}`;
}

/** The batch key of a coalesced batch: one contributor's own key, else a hash of all of them. */
export function combinedBatchKey(keys: readonly string[]): string {
  const unique = [...new Set(keys)].sort();
  if (unique.length === 1 && unique[0] !== undefined) return unique[0];
  return `batch:${createHash("sha256").update(JSON.stringify(unique)).digest("hex").slice(0, 24)}`;
}
