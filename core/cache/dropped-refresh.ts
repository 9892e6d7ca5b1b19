/**
 * Re-reading what a sync dropped while it is still in use. An event drops many L1 entries at
 * once: a booking up to 180 listing variants, a price change every GPU of the pair (more than
 * its log entry can carry). Each isolate would re-read those in use one request at a time, one
 * Redis command each. Instead, the sync that dropped them re-reads the ones that answered a
 * request within their fresh window, in at most two commands: the listings from their views
 * (core/redis/listing-views.ts) and the entity records (core/redis/read-records-script.ts).
 *
 * The sync's waiters wait for it, so they find the new values in L1. The values are filled as a
 * load is, from the sequence before the read: an event that lands meanwhile keeps them out.
 * Cold entries, and entries past the budget, stay dropped for their next request to re-read.
 */
import type { DataClassPolicies } from "../data-classes";
import { strongEtag } from "../etag";
import type { Clock } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import type { L1Entry, L1Store } from "./l1-store";
import type { L2Guard } from "./l2-guard";
import type { L2Store, ListingView } from "./l2-store";

/** Listings one refresh re-reads at most, and items over all of them (each ~250 bytes of reply). */
export const MAX_LISTINGS_PER_REFRESH = 200;
export const MAX_LISTING_ITEMS_PER_REFRESH = 4_000;
/** Entity records one refresh re-reads at most. */
export const MAX_RECORDS_PER_REFRESH = 1_000;

export interface DroppedRefreshOptions {
  readonly l1: L1Store;
  readonly l2: Pick<L2Store, "readListings" | "getMany">;
  readonly guard: L2Guard;
  readonly clock: Clock;
  readonly policies: DataClassPolicies;
  readonly counters: Pick<TieredCacheStats, "viewReads" | "recordsRefreshed">;
}

type Dropped = readonly [string, L1Entry];

export class DroppedRefresh {
  constructor(private readonly options: DroppedRefreshOptions) {}

  async refresh(dropped: readonly Dropped[]): Promise<void> {
    const now = this.options.clock.now();
    const inUse = dropped.filter(
      ([, entry]) => now - entry.hitAt < this.options.policies[entry.dataClass].l1FreshMs,
    );
    if (inUse.length === 0) return;
    const seqAtStart = this.options.l1.sequence;
    await Promise.all([this.refreshListings(inUse, seqAtStart), this.refreshRecords(inUse, seqAtStart)]);
  }

  private async refreshListings(inUse: readonly Dropped[], seqAtStart: number): Promise<void> {
    // Only entries filled with a view carry one: none do while views are off (LISTING_VIEWS=off).
    const picked: Array<readonly [string, L1Entry, ListingView]> = [];
    let items = 0;
    for (const [key, entry] of inUse) {
      const view = entry.view;
      if (!view) continue;
      if (picked.length >= MAX_LISTINGS_PER_REFRESH || items + view.limit > MAX_LISTING_ITEMS_PER_REFRESH)
        break;
      picked.push([key, entry, view]);
      items += view.limit;
    }
    if (picked.length === 0) return;
    const read = this.options.guard.tryCall("Redis view refresh", () =>
      this.options.l2.readListings(picked.map(([, , view]) => view)),
    );
    const outcome = read ? await read : undefined;
    if (!outcome?.ok || outcome.value.outcome !== "ok") return;
    const { bodies } = outcome.value;
    await Promise.all(
      picked.map(async ([key, entry], index) => {
        const body = bodies[index];
        if (body === undefined) return;
        this.fill(key, entry, body, await strongEtag(body), seqAtStart);
        this.options.counters.viewReads.refreshed += 1;
      }),
    );
  }

  private async refreshRecords(inUse: readonly Dropped[], seqAtStart: number): Promise<void> {
    const picked = inUse.filter(([, entry]) => entry.record !== undefined).slice(0, MAX_RECORDS_PER_REFRESH);
    if (picked.length === 0) return;
    const read = this.options.guard.tryCall("Redis record refresh", () =>
      this.options.l2.getMany(picked.map(([, entry]) => entry.record as string)),
    );
    const outcome = read ? await read : undefined;
    if (!outcome?.ok) return;
    const stored = outcome.value;
    await Promise.all(
      picked.map(async ([key, entry], index) => {
        // Gone (a derived record the event deleted): its next request asks the origin.
        const found = stored[index];
        if (!found) return;
        this.fill(key, entry, found.body, found.etag ?? (await strongEtag(found.body)), seqAtStart);
        this.options.counters.recordsRefreshed += 1;
      }),
    );
  }

  private fill(key: string, entry: L1Entry, body: string, etag: string, seqAtStart: number): void {
    this.options.l1.fill(
      key,
      {
        body,
        etag,
        tags: entry.tags,
        dataClass: entry.dataClass,
        contentType: entry.contentType,
        ...(entry.view ? { view: entry.view } : {}),
        ...(entry.record ? { record: entry.record } : {}),
      },
      seqAtStart,
    );
  }
}
