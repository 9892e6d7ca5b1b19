/**
 * Purges Workers Cache through the Worker's signed endpoint (`POST <worker>/_cache/purge`,
 * Standard Webhooks signature with WORKERS_CACHE_PURGE_SECRET, core/webhook-signature.ts):
 * a zone purge never reaches Workers Cache, so the Worker purges it for us.
 *
 * Each purge (or replay) takes tokens for the calls its tags want from the shared bucket
 * (./token-bucket.ts), plans at most that many calls (./planner.ts: by tag, else by route
 * prefix, else everything), gives back the tokens the plan did not use, and sends the calls
 * one at a time. It never throws and never drops work: what was not sent (no token) or
 * failed (503/429 from the Worker, a 5xx, a network error, a refusal) comes back as a failed
 * outcome whose `retry` owes exactly those items, for the caller to queue. After a 503/429
 * (the account's bucket is empty whatever ours says) the rest is not sent, and ours is
 * drained too, so other invocations wait instead of spending calls on refusals.
 */
import { type Clock, systemClock } from "../../../core/time/clock";
import { signWebhook } from "../../../core/webhook-signature";
import {
  errorMessage,
  type PurgeCallObserver,
  type PurgeChunkResult,
  type PurgeLogger,
  type PurgeOptions,
  type PurgeOutcome,
  type PurgeRetry,
  type Purger,
} from "../purger";
import { WORKERS_CACHE_LIMITS } from "./limits";
import { callsWanted, type PlannedCall, type PlannerLimits, planPurgeCalls } from "./planner";
import { workersCacheRetry } from "./retries";
import { isEmptyTargets, mergeTargets, type PurgeTargets, purgeTargetsFor, type TagFilter } from "./targets";
import type { TokenBucket } from "./token-bucket";

export interface WorkersCachePurgerOptions {
  /** The Worker's endpoint, e.g. `https://edge.example.com/_cache/purge`. */
  readonly url: string;
  /** `whsec_…`: the Worker's PURGE_WEBHOOK_SECRETS (one of them). */
  readonly secret: string;
  readonly bucket: TokenBucket;
  /** Which tags are worth a purge (./targets.ts `frontTtlFilter`); default all. */
  readonly filter?: TagFilter;
  readonly limits?: PlannerLimits;
  /** Wall-clock time: the signature's timestamp (default the system clock). */
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Per call (default 10 s). */
  readonly timeoutMs?: number;
  readonly logger?: PurgeLogger;
  /** Told of every call to the Worker's endpoint (lambdas/purge/purge-audit.ts). */
  readonly onCall?: PurgeCallObserver;
}

/** The answer to one call. */
type CallResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status?: number; readonly rateLimited: boolean; readonly error: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** An error body is for people: enough to say why, not a whole page. */
const MAX_ERROR_TEXT = 300;

function itemsOf(call: PlannedCall): string[] {
  const { body } = call;
  if ("tags" in body) return [...body.tags];
  if ("pathPrefixes" in body) return [...body.pathPrefixes];
  return [];
}

function targetItems(targets: PurgeTargets): string[] {
  return [...targets.tags, ...targets.pathPrefixes, ...(targets.everything ? ["(everything)"] : [])];
}

export class WorkersCachePurger implements Purger {
  readonly name = "workers-cache";
  readonly #options: WorkersCachePurgerOptions;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #limits: PlannerLimits;

  constructor(options: WorkersCachePurgerOptions) {
    if (!URL.canParse(options.url)) throw new TypeError(`WorkersCachePurger needs a URL, got ${options.url}`);
    if (!options.secret) throw new TypeError("WorkersCachePurger needs a signing secret");
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#limits = options.limits ?? WORKERS_CACHE_LIMITS;
  }

  /** The targets a purge of `tags` (and operator `paths`) owes, after the filter. */
  targetsFor(tags: readonly string[], options: PurgeOptions = {}): PurgeTargets {
    return purgeTargetsFor(tags, options.paths, this.#options.filter);
  }

  async purge(tags: readonly string[], batchKey: string, options: PurgeOptions = {}): Promise<PurgeOutcome> {
    return this.purgeTargets(this.targetsFor(tags, options), batchKey);
  }

  async retry(description: PurgeRetry): Promise<PurgeOutcome> {
    if (description.provider !== "workers-cache")
      throw new TypeError(`a Workers Cache purger cannot retry a ${description.provider} purge`);
    const { tags, pathPrefixes, everything, batchKey } = description;
    // Filtered when it was first owed; a replay sends what it owes.
    return this.purgeTargets({ tags, pathPrefixes, everything }, batchKey);
  }

  async flush(): Promise<void> {}

  /** Plans `targets` within the tokens the bucket grants and sends the calls; never throws. */
  async purgeTargets(targets: PurgeTargets, batchKey: string): Promise<PurgeOutcome> {
    const wanted = callsWanted(targets, this.#limits);
    if (wanted === 0 || isEmptyTargets(targets))
      return { ok: true, provider: this.name, calls: 0, chunks: [] };

    let granted: number;
    let nextTokenAt: number;
    try {
      ({ granted, nextTokenAt } = await this.#options.bucket.take(wanted));
    } catch (error) {
      return this.#failed(targets, batchKey, [], 0, `no purge tokens: ${errorMessage(error)}`);
    }
    const plan = planPurgeCalls(targets, granted, this.#limits);
    await this.#refund(granted - plan.calls.length);
    if (plan.fallback !== "none")
      this.#options.logger?.info("Workers Cache purge planned within its tokens", {
        provider: "workers-cache",
        batchKey,
        callsWanted: wanted,
        tokens: granted,
        calls: plan.calls.length,
        by: plan.fallback,
      });

    const chunks: PurgeChunkResult[] = [];
    const owed: PurgeTargets[] = [];
    let rateLimited: string | undefined;
    let calls = 0;
    for (const call of plan.calls) {
      if (rateLimited) {
        chunks.push({ ok: false, items: itemsOf(call), attempts: 0, error: `not sent: ${rateLimited}` });
        owed.push(call.covers);
        continue;
      }
      calls++;
      const started = this.#clock.now();
      const result = await this.#send(call);
      this.#options.onCall?.({
        provider: "workers-cache",
        batchKey,
        targets: itemsOf(call).length,
        ok: result.ok,
        latencyMs: this.#clock.now() - started,
        ...(result.ok ? {} : { error: result.error }),
      });
      if (result.ok) {
        chunks.push({ ok: true, items: itemsOf(call), attempts: 1 });
        continue;
      }
      chunks.push({ ok: false, items: itemsOf(call), attempts: 1, error: result.error });
      owed.push(call.covers);
      if (result.rateLimited) {
        rateLimited = result.error;
        await this.#drain();
      }
    }

    if (plan.handedBack) {
      const waitSeconds = Math.max(0, Math.ceil((nextTokenAt - this.#clock.now()) / 1000));
      const reason = `rate limited: no purge token (the next in ${waitSeconds} s)`;
      chunks.push({ ok: false, items: targetItems(plan.handedBack), attempts: 0, error: reason });
      owed.push(plan.handedBack);
    }
    if (owed.length === 0) return { ok: true, provider: this.name, calls, chunks };
    const failed = chunks.filter((result) => !result.ok);
    const first = failed[0]?.error ?? "unknown error";
    return this.#failed(
      mergeTargets(owed),
      batchKey,
      chunks,
      calls,
      `${failed.length} of ${chunks.length} Workers Cache purge calls not done: ${first}`,
    );
  }

  #failed(
    owed: PurgeTargets,
    batchKey: string,
    chunks: PurgeChunkResult[],
    calls: number,
    error: string,
  ): PurgeOutcome {
    return { ok: false, provider: this.name, calls, chunks, error, retry: workersCacheRetry(owed, batchKey) };
  }

  async #refund(count: number): Promise<void> {
    if (count <= 0) return;
    try {
      await this.#options.bucket.refund(count);
    } catch (error) {
      // Lost tokens only slow later purges down; they come back with the refill.
      this.#options.logger?.info("Workers Cache purge tokens not given back", {
        provider: "workers-cache",
        tokens: count,
        error: errorMessage(error),
      });
    }
  }

  async #drain(): Promise<void> {
    try {
      await this.#options.bucket.take(Number.MAX_SAFE_INTEGER);
    } catch {
      // Only a courtesy to other invocations: they will meet the 503 themselves.
    }
  }

  async #send(call: PlannedCall): Promise<CallResult> {
    const body = JSON.stringify(call.body);
    try {
      // A fresh id per attempt: the Worker may refuse an id it has seen (replay protection).
      const headers = await signWebhook(
        this.#options.secret,
        `purge_${crypto.randomUUID()}`,
        Math.floor(this.#clock.now() / 1000),
        body,
      );
      const response = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      const text = await response.text().catch(() => "");
      const answer = readAnswer(text);
      if (response.status === 200 && answer?.success === true) return { ok: true, status: 200 };
      const rateLimited = response.status === 503 || response.status === 429;
      const retryAfter = response.headers.get("retry-after");
      const detail = answer?.errors?.length ? JSON.stringify(answer.errors) : text;
      return {
        ok: false,
        status: response.status,
        rateLimited,
        error: `HTTP ${response.status}${rateLimited && retryAfter ? ` (Retry-After ${retryAfter})` : ""}: ${detail.slice(0, MAX_ERROR_TEXT)}`,
      };
    } catch (error) {
      return { ok: false, rateLimited: false, error: errorMessage(error) };
    }
  }
}

function readAnswer(text: string): { success?: unknown; errors?: unknown[] } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const { success, errors } = value as { success?: unknown; errors?: unknown };
    return { success, ...(Array.isArray(errors) ? { errors } : {}) };
  } catch {
    return undefined;
  }
}
