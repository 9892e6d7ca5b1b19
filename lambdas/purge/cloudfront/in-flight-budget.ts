/**
 * The in-progress budget: invalidations this process created are tracked while in
 * progress (until GetInvalidation reports them Completed, or `assumeCompletedAfterMs`).
 * At most 15 wildcard and 3,000 individual paths may be in progress per distribution
 * (./limits.ts); a batch that would exceed the rest is collapsed to broader wildcards
 * (`/v1/orderbook/A100*` + `/v1/orderbook/H100*` → `/v1/orderbook/*`, … → `/v1/*`,
 * core/purge-paths.ts `fitPathsToBudget`), and when not even one wildcard is left the
 * batcher waits (./batcher.ts). Other processes' invalidations are invisible here;
 * CloudFront then answers `TooManyInvalidationsInProgress`, which the batcher backs off from.
 */
import { type CloudFrontClient, GetInvalidationCommand } from "@aws-sdk/client-cloudfront";
import { fitPathsToBudget, isWildcardPath, type PathBudget } from "../../../core/purge-paths";
import type { Clock } from "../../../core/time/clock";

export interface InFlightInvalidation {
  readonly id: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly wildcards: number;
  readonly exact: number;
  /** Clock time when it was created (or first seen). */
  readonly createdAt: number;
}

export interface InFlightBudgetOptions {
  readonly client: CloudFrontClient;
  readonly distributionId: string;
  readonly maxWildcards: number;
  readonly maxPaths: number;
  /** An invalidation not seen completing is assumed done after this long. */
  readonly assumeCompletedAfterMs: number;
  /** Ask CloudFront (GetInvalidation) whether tracked invalidations finished when the budget is short. */
  readonly poll: boolean;
  /** GetInvalidation calls per budget check, oldest first. */
  readonly maxPollsPerCheck: number;
  readonly clock: Clock;
}

export class InFlightBudget {
  readonly maxWildcards: number;
  readonly maxPaths: number;
  readonly #options: InFlightBudgetOptions;
  #inFlight: InFlightInvalidation[] = [];

  constructor(options: InFlightBudgetOptions) {
    this.#options = options;
    this.maxWildcards = options.maxWildcards;
    this.maxPaths = options.maxPaths;
  }

  /** Invalidations believed to be still in progress. */
  inFlight(): readonly InFlightInvalidation[] {
    this.#prune();
    return [...this.#inFlight];
  }

  /** Counts an invalidation CloudFront accepted and has not completed yet (once, however often it is seen). */
  track(id: string, callerReference: string, paths: readonly string[]): void {
    if (this.#inFlight.some((entry) => entry.id === id)) return;
    const wildcards = paths.filter(isWildcardPath).length;
    this.#inFlight.push({
      id,
      callerReference,
      paths: [...paths],
      wildcards,
      exact: paths.length - wildcards,
      createdAt: this.#options.clock.now(),
    });
  }

  /**
   * `paths` as they fit what is left of the budget (unchanged, or collapsed to broader
   * wildcards), or undefined when not even that fits and the caller must wait.
   */
  async fit(paths: readonly string[]): Promise<string[] | undefined> {
    this.#prune();
    const fitted = fitPathsToBudget(paths, this.#remaining());
    const collapsed =
      !fitted || fitted.length !== paths.length || fitted.some((path, i) => path !== paths[i]);
    if (!collapsed || !this.#options.poll || this.#inFlight.length === 0) return fitted;
    // Worth a few GetInvalidation calls: a finished invalidation frees budget and spares the collapse.
    await this.#refresh();
    return fitPathsToBudget(paths, this.#remaining());
  }

  #remaining(): PathBudget {
    let wildcards = 0;
    let exact = 0;
    for (const entry of this.#inFlight) {
      wildcards += entry.wildcards;
      exact += entry.exact;
    }
    return { wildcards: this.maxWildcards - wildcards, exact: this.maxPaths - exact };
  }

  #prune() {
    const now = this.#options.clock.now();
    const { assumeCompletedAfterMs } = this.#options;
    this.#inFlight = this.#inFlight.filter((entry) => now - entry.createdAt < assumeCompletedAfterMs);
  }

  /** Drops tracked invalidations CloudFront reports Completed (or no longer knows). */
  async #refresh() {
    const { client, distributionId, maxPollsPerCheck } = this.#options;
    const oldest = [...this.#inFlight].sort((a, b) => a.createdAt - b.createdAt).slice(0, maxPollsPerCheck);
    const done = new Set<string>();
    await Promise.all(
      oldest.map(async (entry) => {
        try {
          const response = await client.send(
            new GetInvalidationCommand({ DistributionId: distributionId, Id: entry.id }),
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
