/**
 * CloudFront invalidations (`CreateInvalidation`) for the paths that tags map to
 * (core/purge-paths.ts), within CloudFront's limits:
 *
 * - Coalescing: `CloudFrontInvalidationBatcher.add` collects the paths of many
 *   events for `windowMs` (or until `flush()`, e.g. at the end of a Lambda
 *   invocation) and sends them as few invalidations as possible: deduplicated,
 *   covered paths dropped, at most `maxPathsPerInvalidation` (3,000) per call.
 * - Budget: invalidations this process created are tracked while in progress
 *   (until GetInvalidation reports them Completed, or `assumeCompletedAfterMs`).
 *   At most 15 wildcard and 3,000 individual paths may be in progress per
 *   distribution; a batch that would exceed the rest is collapsed to broader
 *   wildcards (`/v1/orderbook/A100*` + `/v1/orderbook/H100*` → `/v1/orderbook/*`,
 *   … → `/v1/*`), and when not even one wildcard is left it waits (back-off).
 *   Other processes' invalidations are invisible here; CloudFront then answers
 *   `TooManyInvalidationsInProgress`, handled next.
 * - Back-off: `TooManyInvalidationsInProgress` (which the SDK does not retry),
 *   throttling and 5xx / network errors the SDK gave up on are retried after an
 *   exponential delay with jitter, at most `maxAttempts` rounds in all, through an
 *   injected `sleep`. Then (and at once for errors a retry cannot fix, e.g.
 *   AccessDenied) the outcome is failed with the paths still owed.
 * - Idempotency: `CallerReference` is a hash of the batch key and the sorted
 *   paths of the call, so a retried batch (same key, same paths) is the same
 *   invalidation to CloudFront, never a second one.
 */
import { createHash } from "node:crypto";
import {
  type CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
} from "@aws-sdk/client-cloudfront";
import {
  cloudFrontPathsForTags,
  coversPath,
  fitPathsToBudget,
  isWildcardPath,
  normaliseInvalidationPaths,
} from "../../core/purge-paths";
import { type Clock, systemClock, systemTimers, type Timers } from "../../core/time/clock";
import {
  chunk,
  errorMessage,
  type PurgeChunkResult,
  type PurgeOptions,
  type PurgeOutcome,
  type PurgeRetry,
  type Purger,
} from "./purger";

export const CLOUDFRONT_LIMITS = {
  /** Paths in one CreateInvalidation (more is BatchTooLarge). */
  pathsPerInvalidation: 3_000,
  /** Individual (non-wildcard) paths in progress per distribution. */
  pathsInProgress: 3_000,
  /** Wildcard paths in progress per distribution, counted separately. */
  wildcardsInProgress: 15,
} as const;

export interface BackoffOptions {
  /** First delay before jitter (default 1,000 ms). */
  readonly baseMs?: number;
  /** Largest delay before jitter (default 20,000 ms). */
  readonly maxMs?: number;
}

/**
 * Exponential back-off with "equal jitter": attempt n waits between half and all
 * of min(maxMs, baseMs·2ⁿ⁻¹), so concurrent senders spread out but never retry at once.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const baseMs = options.baseMs ?? 1_000;
  const maxMs = options.maxMs ?? 20_000;
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

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

export interface InFlightInvalidation {
  readonly id: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly wildcards: number;
  readonly exact: number;
  /** Clock time when it was created (or first seen). */
  readonly createdAt: number;
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
  readonly sleep?: (ms: number) => Promise<void>;
  /** [0, 1), for the jitter. */
  readonly random?: () => number;
  readonly logger?: Pick<Console, "warn">;
}

interface Contributor {
  readonly paths: readonly string[];
  readonly batchKey: string;
  readonly resolve: (outcome: PurgeOutcome) => void;
}

/** Errors another attempt may fix; anything else fails the chunk at once. */
function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "TooManyInvalidationsInProgress") return true;
  if (e.name === "Throttling" || e.name === "ThrottlingException" || e.name === "RequestLimitExceeded")
    return true;
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault === "server" || (status !== undefined && status >= 500)) return true;
  // No HTTP answer at all (connection refused, reset, timed out).
  return status === undefined;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CloudFrontInvalidationBatcher {
  readonly distributionId: string;
  readonly #client: CloudFrontClient;
  readonly #windowMs: number;
  readonly #maxPathsPerInvalidation: number;
  readonly #maxWildcardsInFlight: number;
  readonly #maxPathsInFlight: number;
  readonly #assumeCompletedAfterMs: number;
  readonly #pollInFlight: boolean;
  readonly #maxPollsPerCheck: number;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: Pick<Console, "warn">;

  #inFlight: InFlightInvalidation[] = [];
  #pending: Contributor[] = [];
  #timer: unknown;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: CloudFrontBatcherOptions) {
    if (!options.distributionId) throw new TypeError("CloudFrontInvalidationBatcher needs a distributionId");
    this.distributionId = options.distributionId;
    this.#client = options.client;
    this.#windowMs = options.windowMs ?? 250;
    this.#maxPathsPerInvalidation = options.maxPathsPerInvalidation ?? CLOUDFRONT_LIMITS.pathsPerInvalidation;
    this.#maxWildcardsInFlight = options.maxWildcardsInFlight ?? CLOUDFRONT_LIMITS.wildcardsInProgress;
    this.#maxPathsInFlight = options.maxPathsInFlight ?? CLOUDFRONT_LIMITS.pathsInProgress;
    this.#assumeCompletedAfterMs = options.assumeCompletedAfterMs ?? 15 * 60_000;
    this.#pollInFlight = options.pollInFlight ?? true;
    this.#maxPollsPerCheck = options.maxPollsPerCheck ?? 10;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#backoff = options.backoff ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#sleep = options.sleep ?? realSleep;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger ?? console;
    if (this.#maxPathsPerInvalidation < 1) throw new RangeError("maxPathsPerInvalidation must be at least 1");
  }

  /** Invalidations this batcher believes are still in progress. */
  inFlight(): readonly InFlightInvalidation[] {
    this.#prune();
    return [...this.#inFlight];
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
      const plan = await this.#plan(remaining);
      if (!plan) {
        waitReason = `in-progress invalidations leave no room (${this.#maxWildcardsInFlight} wildcard / ${this.#maxPathsInFlight} paths)`;
      } else {
        const leftover: string[] = [];
        for (const items of plan) {
          if (waitReason !== undefined) {
            leftover.push(...items);
            continue;
          }
          const callerReference = callerReferenceFor(batchKey, items);
          calls++;
          try {
            const id = await this.#create(items, callerReference);
            chunks.push({ ok: true, items, id, callerReference, attempts: attempt });
          } catch (error) {
            if (isRetryable(error)) {
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
      this.#logger.warn(
        `[purge:cloudfront] ${remaining.length} paths delayed ${delay} ms (attempt ${attempt}/${this.#maxAttempts}): ${waitReason}`,
      );
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
    if (invalidation?.Status !== "Completed" && !this.#inFlight.some((entry) => entry.id === id)) {
      const wildcards = paths.filter(isWildcardPath).length;
      this.#inFlight.push({
        id,
        callerReference,
        paths: [...paths],
        wildcards,
        exact: paths.length - wildcards,
        createdAt: this.#clock.now(),
      });
    }
    return id;
  }

  /** Chunks that fit what is left of the in-progress budget, or undefined to wait. */
  async #plan(paths: readonly string[]): Promise<string[][] | undefined> {
    this.#prune();
    let fitted = fitPathsToBudget(paths, this.#budget());
    const collapsed =
      !fitted || fitted.length !== paths.length || fitted.some((path, i) => path !== paths[i]);
    if (collapsed && this.#pollInFlight && this.#inFlight.length > 0) {
      await this.#refresh();
      fitted = fitPathsToBudget(paths, this.#budget());
    }
    return fitted ? chunk(fitted, this.#maxPathsPerInvalidation) : undefined;
  }

  #budget() {
    let wildcards = 0;
    let exact = 0;
    for (const entry of this.#inFlight) {
      wildcards += entry.wildcards;
      exact += entry.exact;
    }
    return { wildcards: this.#maxWildcardsInFlight - wildcards, exact: this.#maxPathsInFlight - exact };
  }

  #prune() {
    const now = this.#clock.now();
    this.#inFlight = this.#inFlight.filter((entry) => now - entry.createdAt < this.#assumeCompletedAfterMs);
  }

  /** Drops tracked invalidations CloudFront reports Completed (or no longer knows). */
  async #refresh() {
    const oldest = [...this.#inFlight]
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, this.#maxPollsPerCheck);
    const done = new Set<string>();
    await Promise.all(
      oldest.map(async (entry) => {
        try {
          const response = await this.#client.send(
            new GetInvalidationCommand({ DistributionId: this.distributionId, Id: entry.id }),
          );
          if (response.Invalidation?.Status === "Completed") done.add(entry.id);
        } catch (error) {
          if ((error as { name?: string } | null)?.name === "NoSuchInvalidation") done.add(entry.id);
        }
      }),
    );
    if (done.size > 0) this.#inFlight = this.#inFlight.filter((entry) => !done.has(entry.id));
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

export interface CloudFrontPurgerOptions extends CloudFrontBatcherOptions {}

/** What CloudFront accepts as an invalidation path: starts with `/`, no whitespace or control characters. */
const VALID_PATH = /^\/[^\s\p{Cc}]{0,4095}$/u;

/**
 * The paths a purge of `tags` (plus an operator's `options.paths`) invalidates, normalised; shared by
 * the purger and the event app's deferred purges, so both invalidate exactly the same paths.
 */
export function cloudFrontInvalidationPaths(
  tags: readonly string[],
  batchKey: string,
  options: PurgeOptions = {},
  logger: Pick<Console, "warn"> = console,
): string[] {
  // One bad operator path would fail the whole coalesced invalidation (InvalidArgument) for everyone in it.
  const extra = (options.paths ?? []).filter((path) => {
    const valid = VALID_PATH.test(path);
    if (!valid) logger.warn(`[purge:cloudfront] ignoring invalid path ${JSON.stringify(path)} (${batchKey})`);
    return valid;
  });
  return normaliseInvalidationPaths([...cloudFrontPathsForTags(tags), ...extra]);
}

/** The `Purger` for CloudFront: tags → paths → the coalescing batcher. */
export class CloudFrontPurger implements Purger {
  readonly name = "cloudfront";
  readonly batcher: CloudFrontInvalidationBatcher;
  readonly #logger: Pick<Console, "warn">;

  constructor(options: CloudFrontPurgerOptions) {
    this.batcher = new CloudFrontInvalidationBatcher(options);
    this.#logger = options.logger ?? console;
  }

  /** Resolves after the coalescing window (or `flush()`); purge many events, then await them together. */
  purge(tags: readonly string[], batchKey: string, options: PurgeOptions = {}): Promise<PurgeOutcome> {
    return this.batcher.add(cloudFrontInvalidationPaths(tags, batchKey, options, this.#logger), batchKey);
  }

  async retry(description: PurgeRetry): Promise<PurgeOutcome> {
    if (description.provider !== "cloudfront")
      throw new TypeError(`a CloudFront purger cannot retry a ${description.provider} purge`);
    if (description.distributionId !== this.batcher.distributionId) {
      return {
        ok: false,
        provider: this.name,
        calls: 0,
        chunks: [],
        error: `retry names distribution ${description.distributionId}, this purger sends to ${this.batcher.distributionId}`,
        retry: description,
      };
    }
    return this.batcher.send(description.paths, description.batchKey);
  }

  async flush(): Promise<void> {
    await this.batcher.flush();
  }
}
