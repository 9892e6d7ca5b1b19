/** Shared fixtures for the origin tests: a store with a controllable clock and small HTTP helpers. */
import type { Hono } from "hono";
import { createOriginApp, type OriginAppOptions } from "../../../dev/origin/app";
import { MarketplaceStore, type MarketplaceStoreOptions } from "../../../dev/origin/store";

export const CLOCK_START = "2026-11-05T12:00:00.000Z";

/** A clock tests move by hand, so every `updatedAt` is predictable. */
export class TestClock {
  #ms = Date.parse(CLOCK_START);

  readonly now = (): Date => new Date(this.#ms);

  advance(ms: number): string {
    this.#ms += ms;
    return this.iso();
  }

  iso(): string {
    return new Date(this.#ms).toISOString();
  }
}

export interface Fixture {
  app: Hono;
  store: MarketplaceStore;
  clock: TestClock;
}

export function makeFixture(
  options: { store?: MarketplaceStoreOptions; app?: Omit<OriginAppOptions, "store"> } = {},
): Fixture {
  const clock = new TestClock();
  const store = new MarketplaceStore({ now: clock.now, ...options.store });
  const app = createOriginApp({ store, ...options.app });
  return { app, store, clock };
}

export interface JsonReply<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export async function request<T = unknown>(
  app: Hono,
  path: string,
  init?: RequestInit,
): Promise<JsonReply<T>> {
  const response = await app.request(path, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (text === "" ? undefined : JSON.parse(text)) as T,
  };
}

export function admin<T = unknown>(
  app: Hono,
  method: "POST" | "PUT" | "GET",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonReply<T>> {
  return request<T>(app, path, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

/** The first GPU matching a predicate; fails loudly so a test never silently checks nothing. */
export function pickGpu<G extends { gpuId: string }>(gpus: readonly G[], predicate: (gpu: G) => boolean): G {
  const gpu = gpus.find(predicate);
  if (!gpu) throw new Error("test fixture: no GPU matches the predicate");
  return gpu;
}

export function must<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`test fixture: missing ${what}`);
  return value;
}
