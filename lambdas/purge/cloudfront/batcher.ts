/**
 * CloudFront invalidations (`CreateInvalidation`) sent as few and as late as CloudFront's
 * limits (./limits.ts) allow:
 *
 * - Coalescing: `CloudFrontInvalidationBatcher.add` collects the paths of many events for
 *   `windowMs` (or until `flush()`, e.g. at the end of a Lambda invocation) and sends them
 *   as few invalidations as possible: deduplicated, covered paths dropped, at most
 *   `maxPathsPerInvalidation` (3,000) per call, and within the in-progress budget
 *   (./in-flight-budget.ts), which may collapse them to broader wildcards.
 * - Back-off: when the budget leaves no room, or an error another attempt may fix
 *   (./retry-decision.ts), the paths still owed are sent again after an exponential delay
 *   with equal jitter (core/time/backoff.ts), at most `maxAttempts` rounds in all, through
 *   an injected `sleep`. Then (and at once for errors a retry cannot fix, e.g. AccessDenied)
 *   the outcome is failed with the paths still owed, to be queued and replayed.
 * - Idempotency: every call's `CallerReference` derives from the batch key and its paths
 *   (./caller-reference.ts), so a replayed batch is the same invalidation to CloudFront.
 */
import { type CloudFrontClient, CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import { coversPath, normaliseInvalidationPaths } from "../../../core/purge-paths";
import { backoffDelay } from "../../../core/time/backoff";
import { type Clock, systemClock, systemTimers, type Timers } from "../../../core/time/clock";
import type { Logger } from "../../shared/logger";
import {
  chunk,
  errorMessage,
  type PurgeCallObserver,
  type PurgeChunkResult,
  type PurgeOutcome,
} from "../purger";
import { callerReferenceFor, combinedBatchKey } from "./caller-reference";
import { InFlightBudget, type InFlightInvalidation } from "./in-flight-budget";
import { CLOUDFRONT_LIMITS } from "./limits";
import { isRetryableCloudFrontError } from "./retry-decision";

export interface BackoffOptions {
  /** First delay before jitter (default 1,000 ms). */
  readonly baseMs?: number;
  /** Largest delay before jitter (default 20,000 ms). */
  readonly maxMs?: number;
}

/**
 * The batcher's wait after its `attempt`-th round: between half and all of
 * min(maxMs, baseMs·2ⁿ⁻¹), so concurrent senders spread out but never retry at once.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  return backoffDelay(attempt, {
    base: options.baseMs ?? 1_000,
    max: options.maxMs ?? 20_000,
    jitter: random,
  });
}

export interface CloudFrontBatcherOptions {
  readonly client: CloudFrontClient;
  readonly distributionId: string;
  /** How long the first path of a batch waits for others (default 250 ms). */
  readonly windowMs?: number;
  readonly maxPathsPerInvalidation?: number;
  readonly maxWildcardsInFlight?: number;
  readonly maxPathsInFlight?: number;
  /** An invalidation not seen completing is assumed done after this long (default 15 min). */
  readonly assumeCompletedAfterMs?: number;
  /** Ask CloudFront (GetInvalidation) whether tracked invalidations finished when the budget is short (default true). */
  readonly pollInFlight?: boolean;
  /** GetInvalidation calls per budget check, oldest first (default 10). */
  readonly maxPollsPerCheck?: number;
  /** Rounds of CreateInvalidation attempts per batch, the first included (default 5). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** The back-off's wait (default: a timeout on `timers`). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [0, 1), for the jitter. */
  readonly random?: () => number;
  readonly logger?: Pick<Logger, "warn">;
  /** Told of every CreateInvalidation (lambdas/purge/purge-audit.ts). */
  readonly onCall?: PurgeCallObserver;
}

interface Contributor {
  readonly paths: readonly string[];
  readonly batchKey: string;
  readonly resolve: (outcome: PurgeOutcome) => void;
}

export class CloudFrontInvalidationBatcher {
  readonly distributionId: string;
  readonly #client: CloudFrontClient;
  readonly #windowMs: number;
  readonly #maxPathsPerInvalidation: number;
  readonly #budget: InFlightBudget;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #timers: Timers;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: Pick<Logger, "warn">;
  readonly #clock: Clock;
  readonly #onCall: PurgeCallObserver | undefined;

  #pending: Contributor[] = [];
  #timer: unknown;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: CloudFrontBatcherOptions) {
    if (!options.distributionId) throw new TypeError("CloudFrontInvalidationBatcher needs a distributionId");
    this.distributionId = options.distributionId;
    this.#client = options.client;
    this.#windowMs = options.windowMs ?? 250;
    this.#maxPathsPerInvalidation = options.maxPathsPerInvalidation ?? CLOUDFRONT_LIMITS.pathsPerInvalidation;
    if (this.#maxPathsPerInvalidation < 1) throw new RangeError("maxPathsPerInvalidation must be at least 1");
    this.#budget = new InFlightBudget({
      client: options.client,
      distributionId: options.distributionId,
      maxWildcards: options.maxWildcardsInFlight ?? CLOUDFRONT_LIMITS.wildcardsInProgress,
      maxPaths: options.maxPathsInFlight ?? CLOUDFRONT_LIMITS.pathsInProgress,
      assumeCompletedAfterMs: options.assumeCompletedAfterMs ?? 15 * 60_000,
      poll: options.pollInFlight ?? true,
      maxPollsPerCheck: options.maxPollsPerCheck ?? 10,
      clock: options.clock ?? systemClock,
    });
    this.#clock = options.clock ?? systemClock;
    this.#onCall = options.onCall;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#backoff = options.backoff ?? {};
    const timers = options.timers ?? systemTimers;
    this.#timers = timers;
    this.#sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => timers.setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger ?? console;
  }

  /** Invalidations this batcher believes are still in progress. */
  inFlight(): readonly InFlightInvalidation[] {
    return this.#budget.inFlight();
  }

  /** Contributors waiting for the next flush. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Queues `paths` for the next coalesced batch; resolves when that batch has been
   * sent, with the outcome for these paths (ok when every one of them was covered
   * by an accepted invalidation).
   */
  add(paths: readonly string[], batchKey: string): Promise<PurgeOutcome> {
    const normalised = normaliseInvalidationPaths(paths);
    if (normalised.length === 0)
      return Promise.resolve({ ok: true, provider: "cloudfront", calls: 0, chunks: [] });
    return new Promise<PurgeOutcome>((resolve) => {
      this.#pending.push({ paths: normalised, batchKey, resolve });
      if (this.#timer === undefined)
        this.#timer = this.#timers.setTimeout(() => {
          this.#timer = undefined;
          void this.flush();
        }, this.#windowMs);
    });
  }

  /** Sends everything queued now; resolves with the whole batch's outcome (undefined when nothing was queued). */
  async flush(): Promise<PurgeOutcome | undefined> {
    if (this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const contributors = this.#pending;
    this.#pending = [];
    if (contributors.length === 0) {
      await this.#tail;
      return undefined;
    }
    const outcome = await this.send(
      contributors.flatMap((contributor) => contributor.paths),
      combinedBatchKey(contributors.map((contributor) => contributor.batchKey)),
    );
    for (const contributor of contributors) contributor.resolve(outcomeFor(outcome, contributor.paths));
    return outcome;
  }

  /** Sends `paths` now as one batch (no coalescing window); batches are sent one at a time. */
  send(paths: readonly string[], batchKey: string): Promise<PurgeOutcome> {
    const run = this.#tail.then(() => this.#sendSafely(paths, batchKey));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #sendSafely(paths: readonly string[], batchKey: string): Promise<PurgeOutcome> {
    try {
      return await this.#send(normaliseInvalidationPaths(paths), batchKey);
    } catch (error) {
      // Unexpected (a bug, not a CloudFront answer): still hand the work back to be retried.
      const owed = normaliseInvalidationPaths(paths);
      return this.#failure(
        0,
        [{ ok: false, items: owed, attempts: 0, error: errorMessage(error) }],
        batchKey,
      );
    }
  }

  async #send(paths: string[], batchKey: string): Promise<PurgeOutcome> {
    const chunks: PurgeChunkResult[] = [];
    let remaining = paths;
    let calls = 0;
    for (let attempt = 1; remaining.length > 0; attempt++) {
      let waitReason: string | undefined;
      const fitted = await this.#budget.fit(remaining);
      if (!fitted) {
        waitReason = `in-progress invalidations leave no room (${this.#budget.maxWildcards} wildcard / ${this.#budget.maxPaths} paths)`;
      } else {
        const leftover: string[] = [];
        for (const items of chunk(fitted, this.#maxPathsPerInvalidation)) {
          if (waitReason !== undefined) {
            leftover.push(...items);
            continue;
          }
          const callerReference = callerReferenceFor(batchKey, items);
          calls++;
          const started = this.#clock.now();
          const observe = (ok: boolean, detail: { id: string } | { error: string }) =>
            this.#onCall?.({
              provider: "cloudfront",
              batchKey,
              targets: items.length,
              ok,
              latencyMs: this.#clock.now() - started,
              ...detail,
            });
          try {
            const id = await this.#create(items, callerReference);
            observe(true, { id });
            chunks.push({ ok: true, items, id, callerReference, attempts: attempt });
          } catch (error) {
            observe(false, { error: errorMessage(error) });
            if (isRetryableCloudFrontError(error)) {
              waitReason = errorMessage(error);
              leftover.push(...items);
            } else {
              chunks.push({
                ok: false,
                items,
                callerReference,
                attempts: attempt,
                error: errorMessage(error),
              });
            }
          }
        }
        remaining = normaliseInvalidationPaths(leftover);
      }
      if (remaining.length === 0) break;
      if (attempt >= this.#maxAttempts) {
        chunks.push({
          ok: false,
          items: remaining,
          attempts: attempt,
          error: `gave up after ${attempt} attempts: ${waitReason}`,
        });
        break;
      }
      const delay = backoffDelayMs(attempt, this.#backoff, this.#random);
      this.#logger.warn("CloudFront invalidation delayed", {
        provider: "cloudfront",
        batchKey,
        paths: remaining.length,
        delayMs: delay,
        attempt,
        maxAttempts: this.#maxAttempts,
        reason: waitReason,
      });
      await this.#sleep(delay);
    }
    const failed = chunks.filter((result) => !result.ok);
    if (failed.length === 0) return { ok: true, provider: "cloudfront", calls, chunks };
    return this.#failure(calls, chunks, batchKey);
  }

  #failure(calls: number, chunks: PurgeChunkResult[], batchKey: string): PurgeOutcome {
    const failed = chunks.filter((result) => !result.ok);
    return {
      ok: false,
      provider: "cloudfront",
      calls,
      chunks,
      error: failed.map((result) => result.error).join("; "),
      retry: {
        provider: "cloudfront",
        distributionId: this.distributionId,
        paths: normaliseInvalidationPaths(failed.flatMap((result) => result.items)),
        batchKey,
      },
    };
  }

  async #create(paths: readonly string[], callerReference: string): Promise<string> {
    const response = await this.#client.send(
      new CreateInvalidationCommand({
        DistributionId: this.distributionId,
        InvalidationBatch: {
          CallerReference: callerReference,
          Paths: { Quantity: paths.length, Items: [...paths] },
        },
      }),
    );
    const invalidation = response.Invalidation;
    const id = invalidation?.Id;
    if (!id) throw new Error("CreateInvalidation answered without an invalidation id");
    if (invalidation?.Status !== "Completed") this.#budget.track(id, callerReference, paths);
    return id;
  }
}

/** A contributor's view of a batch outcome: ok when each of its paths went out in an accepted invalidation. */
function outcomeFor(outcome: PurgeOutcome, paths: readonly string[]): PurgeOutcome {
  if (outcome.ok) return outcome;
  const accepted = outcome.chunks.filter((result) => result.ok).flatMap((result) => result.items);
  const covered = (path: string) => accepted.some((done) => done === path || coversPath(done, path));
  if (paths.every(covered)) {
    return { ok: true, provider: outcome.provider, calls: outcome.calls, chunks: outcome.chunks };
  }
  return outcome;
}
