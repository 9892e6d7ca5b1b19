/**
 * After `npm run event` sends a change: which edge URL should show it, and a bounded watch until it
 * does, so the user sees the promise (a change reaches the edge within the L1 sync interval, or once
 * a purged front cache refills) kept or broken, with the time it took. With the delivery's sync
 * token the watch reads as the booking system's clients would, and the first read shows the change.
 */
import type { Clock } from "../../core/time/clock";
import { SYNC_TOKEN_HEADER } from "../../workers/headers";
import type { WebhookEvent } from "./marketplace-events";
import { fetchFailureReason } from "./unreachable";

/** Long enough for the Worker's L1 sync (L1_SYNC_INTERVAL_MS, 500 ms by default) several times over. */
export const DEFAULT_EDGE_WATCH_MS = 5_000;
export const DEFAULT_EDGE_POLL_MS = 100;

/** The edge shows the change when GET `path` answers JSON whose `field` equals `value`. */
export interface EdgeExpectation {
  readonly path: string;
  readonly field: string;
  readonly value: string | number;
}

export type EdgeWatchResult =
  | { readonly kind: "shown"; readonly afterMs: number }
  | { readonly kind: "not-shown"; readonly afterMs: number; readonly last: string }
  | { readonly kind: "unreachable"; readonly afterMs: number; readonly url: string; readonly reason: string };

interface JsonObject {
  readonly [field: string]: unknown;
}

function record(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null ? (value as JsonObject) : undefined;
}

function gpuExpectation(gpu: unknown, field: "status" | "pricePerHour"): EdgeExpectation | undefined {
  const gpuId = record(gpu)?.gpuId;
  const value = record(gpu)?.[field];
  if (typeof gpuId !== "string" || (typeof value !== "string" && typeof value !== "number")) return undefined;
  return { path: `/v1/gpus/${encodeURIComponent(gpuId)}`, field, value };
}

/** What the first event of a delivery changes at the edge; undefined when there is nothing to read back. */
export function edgeExpectationFor(events: readonly WebhookEvent[]): EdgeExpectation | undefined {
  const [event] = events;
  const data = record(event?.data);
  switch (event?.type) {
    case "booking.created":
    case "booking.cancelled":
    case "gpu.status_changed":
      return gpuExpectation(data?.gpu, "status");
    case "pricing.updated":
      return Array.isArray(data?.gpus) ? gpuExpectation(data.gpus[0], "pricePerHour") : undefined;
    case "provider.status_changed": {
      const provider = record(data?.provider);
      return typeof provider?.providerId === "string" && typeof provider.status === "string"
        ? {
            path: `/v1/providers/${encodeURIComponent(provider.providerId)}`,
            field: "status",
            value: provider.status,
          }
        : undefined;
    }
    default:
      return undefined;
  }
}

function shownAs(field: string, value: unknown): string {
  return `${JSON.stringify(field)}:${JSON.stringify(value)}`;
}

export interface EdgeWatchOptions {
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /**
   * The delivery's `syncToken`, sent as `X-Sync-Token` (docs/read-your-own-writes.md): the
   * Worker syncs past it first, so the first read shows the change, through the front cache too.
   */
  readonly syncToken?: string;
}

/**
 * GETs `edgeUrl` + the expectation's path every `intervalMs` until its field shows the value or
 * `timeoutMs` has passed. A request no one answers ends the watch at once: the edge is not running.
 */
export async function watchEdge(
  edgeUrl: string,
  expectation: EdgeExpectation,
  options: EdgeWatchOptions = {},
): Promise<EdgeWatchResult> {
  const fetchImpl = options.fetch ?? fetch;
  const clock = options.clock ?? { now: () => performance.now() };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.timeoutMs ?? DEFAULT_EDGE_WATCH_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_EDGE_POLL_MS;
  const url = `${edgeUrl.replace(/\/+$/, "")}${expectation.path}`;
  const started = clock.now();
  const elapsed = () => Math.round(clock.now() - started);
  let last = "no answer yet";
  for (;;) {
    try {
      const response = await fetchImpl(url, {
        headers: {
          accept: "application/json",
          ...(options.syncToken ? { [SYNC_TOKEN_HEADER]: options.syncToken } : {}),
        },
        // A request stuck past the wait must not stretch it.
        signal: AbortSignal.timeout(Math.max(1, timeoutMs - elapsed())),
      });
      const text = await response.text();
      if (response.ok) {
        let body: JsonObject | undefined;
        try {
          body = record(JSON.parse(text));
        } catch {
          body = undefined;
        }
        if (body && body[expectation.field] === expectation.value)
          return { kind: "shown", afterMs: elapsed() };
        last = body
          ? `shows ${shownAs(expectation.field, body[expectation.field])}`
          : "answers no JSON object";
      } else {
        last = `answers ${response.status}`;
      }
    } catch (error) {
      const reason = fetchFailureReason(error);
      // Timed out: the wait is over, and the edge is up but slow, so that is what it showed.
      if (reason === "timed out") last = "did not answer in time";
      else return { kind: "unreachable", afterMs: elapsed(), url, reason };
    }
    const remaining = timeoutMs - elapsed();
    if (remaining <= 0) return { kind: "not-shown", afterMs: elapsed(), last };
    await sleep(Math.min(intervalMs, remaining));
  }
}

/** The one line `npm run event` prints for a watch; `ok` false means it should exit non-zero. */
export function describeEdgeWatch(
  expectation: EdgeExpectation,
  result: EdgeWatchResult,
): { ok: boolean; line: string } {
  const expected = shownAs(expectation.field, expectation.value);
  switch (result.kind) {
    case "shown":
      return { ok: true, line: `edge: ${expectation.path} shows ${expected} after ${result.afterMs} ms` };
    case "not-shown":
      return {
        ok: false,
        line: `edge: ${expectation.path} did not show ${expected} within ${result.afterMs} ms (it ${result.last})`,
      };
    case "unreachable":
      return { ok: false, line: `edge: could not reach the edge at ${result.url} (${result.reason})` };
  }
}
