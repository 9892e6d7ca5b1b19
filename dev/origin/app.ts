/**
 * The sample marketplace API: the origin the edge Worker reads on a cache miss.
 *
 * Public GET routes mirror the edge API (docs/architecture.md "Edge HTTP API") and answer the way a real
 * API behind a CDN would (Cache-Control per data class, strong ETags, 304s, a version header).
 * `/_admin/*` routes apply the booking system's changes and expose request counters, so tests
 * can change the truth and count how often the edge had to ask for it.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type Gpu, identifierSchema } from "../../core/domain";
import { systemTimers } from "../../core/time/clock";
import { OriginError, OriginNotFoundError, OriginValidationError } from "./errors";
import {
  type CacheableBody,
  cacheableResponse,
  errorResponse,
  jsonResponse,
  maxVersion,
  NO_STORE,
  PRIVATE_CACHE_CONTROL,
  sha256Hex,
} from "./http";
import {
  bookingsQuerySchema,
  createBookingBodySchema,
  describeIssues,
  faultsBodySchema,
  gpuListQuerySchema,
  gpuStatusBodySchema,
  gpuUpsertBodySchema,
  type InputIssue,
  orderBookBodySchema,
  pairQuerySchema,
  pricingBodySchema,
  providerStatusBodySchema,
  regionQuerySchema,
  resetBodySchema,
} from "./schemas";
import type { MarketplaceStore } from "./store";

export interface OriginAppOptions {
  store: MarketplaceStore;
  /** Delay before each public GET answers, to play a far-away origin. */
  latencyMs?: number;
  /** How the latency is waited out (default: a real timer); tests pass one on a manual clock. */
  sleep?: (ms: number) => Promise<void>;
  /** When set, `/_admin/*` needs `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /** Where unexpected errors go before the 500 is sent; defaults to console.error. */
  onUnexpectedError?: (error: unknown) => void;
}

export interface OriginCounters {
  /** Public GETs served, 304s and errors included: each is one origin fetch. */
  requests: number;
  /** Keyed by route pattern, e.g. `/v1/gpus/:gpuId`. */
  byRoute: Record<string, number>;
  /** Keyed by request path, e.g. `/v1/gpus/gpu-00001`, for per-key assertions. */
  byPath: Record<string, number>;
}

interface Faults {
  latencyMs: number;
  failStatus: number | null;
}

type PublicHandler = (c: Context) => CacheableBody | Response | Promise<CacheableBody | Response>;

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const GPU_ORDER: Record<"price" | "performance" | "id", (a: Gpu, b: Gpu) => number> = {
  price: (a, b) => a.pricePerHour - b.pricePerHour || compareIds(a.gpuId, b.gpuId),
  performance: (a, b) => b.performanceScore - a.performanceScore || compareIds(a.gpuId, b.gpuId),
  id: (a, b) => compareIds(a.gpuId, b.gpuId),
};

/** `?region=` with nothing after it means "no filter", as a browser form would send it. */
function queryOf(c: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ""));
}

/** A 400 that carries every zod issue, not just the first, so a client can fix a request in one go. */
class InputError extends Error {
  override readonly name = "InputError";
  readonly issues: InputIssue[];

  constructor(message: string, issues: InputIssue[]) {
    super(message);
    this.issues = issues;
  }
}

/** `where` turns the first issue's field path into words, e.g. `query parameter "limit"`. */
function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: (path: string) => string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = describeIssues(result.error);
  const first = issues[0];
  throw new InputError(`Invalid ${where(first?.path ?? "")}: ${first?.message ?? "invalid input"}`, issues);
}

function parseQuery<S extends z.ZodType>(schema: S, c: Context): z.output<S> {
  return parseInput(schema, queryOf(c), (path) => (path ? `query parameter "${path}"` : "query"));
}

function pathParam(c: Context, name: string): string {
  const params = parseInput(z.object({ [name]: identifierSchema }), { [name]: c.req.param(name) }, (path) =>
    path ? `path parameter "${path}"` : "path",
  );
  return params[name] as string;
}

async function parseBody<S extends z.ZodType>(schema: S, c: Context): Promise<z.output<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new InputError("Invalid body: not valid JSON", []);
    }
  }
  return parseInput(schema, raw, (path) => (path ? `body field "${path}"` : "body"));
}

export function createOriginApp(options: OriginAppOptions): Hono {
  const { store, adminToken } = options;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => systemTimers.setTimeout(resolve, ms)));
  const onUnexpectedError = options.onUnexpectedError ?? ((error: unknown) => console.error(error));
  const faults: Faults = { latencyMs: options.latencyMs ?? 0, failStatus: null };
  let counters: OriginCounters = { requests: 0, byRoute: {}, byPath: {} };

  const app = new Hono();

  const publicGet = (route: string, handler: PublicHandler): void => {
    app.get(route, async (c) => {
      counters.requests += 1;
      counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1;
      counters.byPath[c.req.path] = (counters.byPath[c.req.path] ?? 0) + 1;
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      if (faults.failStatus !== null) return errorResponse(faults.failStatus, "Simulated origin failure");
      const result = await handler(c);
      if (result instanceof Response) return result;
      return cacheableResponse(result, c.req.header("If-None-Match"));
    });
  };

  const adminJson = (body: unknown): Response => jsonResponse(200, body, { "Cache-Control": NO_STORE });

  // ---- public reads ---------------------------------------------------------------------------

  publicGet("/v1/gpus", (c) => {
    const query = parseQuery(gpuListQuerySchema, c);
    const { after } = query;
    const matching = store
      .listGpus({ region: query.region, gpuType: query.type, status: query.status })
      .filter((gpu) => after === undefined || compareIds(gpu.gpuId, after) > 0)
      .sort(GPU_ORDER[query.sort ?? "id"]);
    const items = matching.slice(0, query.limit);
    return { body: { items, total: matching.length }, dataClass: "availability", version: maxVersion(items) };
  });

  publicGet("/v1/gpus/:gpuId", (c) => {
    const gpuId = pathParam(c, "gpuId");
    const gpu = store.getGpu(gpuId);
    if (!gpu) throw new OriginNotFoundError("gpuId", `no GPU "${gpuId}"`);
    return { body: gpu, dataClass: "gpu", version: gpu.version };
  });

  publicGet("/v1/pricing", (c) => {
    const { type, region } = parseQuery(pairQuerySchema, c);
    if (type !== undefined && region !== undefined) {
      const price = store.getPrice(type, region);
      if (!price) throw pairNotFound(store, type, region);
      return { body: price, dataClass: "pricing", version: price.version };
    }
    const items = store.listPrices({ gpuType: type, region });
    return { body: { items }, dataClass: "pricing", version: maxVersion(items) };
  });

  publicGet("/v1/providers/:providerId", (c) => {
    const providerId = pathParam(c, "providerId");
    const provider = store.getProvider(providerId);
    if (!provider) throw new OriginNotFoundError("providerId", `no provider "${providerId}"`);
    return { body: provider, dataClass: "provider", version: provider.version };
  });

  publicGet("/v1/market/stats", (c) => {
    const { type, region } = parseQuery(pairQuerySchema, c);
    if (type !== undefined && region !== undefined) {
      const stats = store.getMarketStats(region, type);
      if (!stats) throw pairNotFound(store, type, region);
      return { body: stats, dataClass: "market-stats", version: stats.version };
    }
    const items = store.listMarketStats({ gpuType: type, region });
    return { body: { items }, dataClass: "market-stats", version: maxVersion(items) };
  });

  publicGet("/v1/orderbook/:gpuType", (c) => {
    const gpuType = pathParam(c, "gpuType");
    const { region } = parseQuery(regionQuerySchema, c);
    if (!store.getGpuType(gpuType)) throw new OriginNotFoundError("gpuType", `unknown GPU type "${gpuType}"`);
    if (region !== undefined) {
      const book = store.getOrderBook(gpuType, region);
      if (!book) throw new OriginNotFoundError("region", `unknown region "${region}"`);
      return { body: book, dataClass: "order-book", version: book.version };
    }
    const items = store.listOrderBooks({ gpuType });
    return { body: { items }, dataClass: "order-book", version: maxVersion(items) };
  });

  // Reference data has no version of its own, so these answers carry no X-Origin-Version.
  publicGet("/v1/regions", () => ({ body: { items: store.listRegions() }, dataClass: "reference" }));
  publicGet("/v1/gpu-types", () => ({ body: { items: store.listGpuTypes() }, dataClass: "reference" }));

  // The one private resource: it exists so tests can prove the edge never stores such a response in a shared tier.
  publicGet("/v1/bookings", async (c) => {
    const token = /^Bearer\s+(\S.*)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    if (!token) {
      const response = errorResponse(401, "Authorization: a Bearer token is required");
      response.headers.set("WWW-Authenticate", 'Bearer realm="marketplace"');
      return response;
    }
    const { userId } = parseQuery(bookingsQuerySchema, c);
    const items = store.listBookings({ userId });
    const session = (await sha256Hex(`session:${token}`)).slice(0, 24);
    return jsonResponse(
      200,
      { items, total: items.length },
      {
        "Cache-Control": PRIVATE_CACHE_CONTROL,
        "Set-Cookie": `session=${session}; Path=/; HttpOnly; Secure; SameSite=Lax`,
        Vary: "Authorization",
      },
    );
  });

  // ---- admin ----------------------------------------------------------------------------------

  if (adminToken !== undefined) {
    app.use("/_admin/*", async (c, next) => {
      if (c.req.header("Authorization") !== `Bearer ${adminToken}`) {
        return errorResponse(401, "Authorization: admin token required");
      }
      await next();
    });
  }

  app.post("/_admin/bookings", async (c) => {
    const body = await parseBody(createBookingBodySchema, c);
    return adminJson(store.createBooking(body));
  });

  app.post("/_admin/bookings/:bookingId/cancel", (c) => {
    return adminJson(store.cancelBooking(pathParam(c, "bookingId")));
  });

  app.post("/_admin/gpus/:gpuId/status", async (c) => {
    const gpuId = pathParam(c, "gpuId");
    const { status } = await parseBody(gpuStatusBodySchema, c);
    return adminJson(store.setGpuStatus(gpuId, status));
  });

  app.put("/_admin/gpus/:gpuId", async (c) => {
    const gpuId = pathParam(c, "gpuId");
    const {
      gpuId: bodyGpuId,
      version: _version,
      updatedAt: _updatedAt,
      ...fields
    } = await parseBody(gpuUpsertBodySchema, c);
    if (bodyGpuId !== undefined && bodyGpuId !== gpuId) {
      throw new OriginValidationError("gpuId", `body says "${bodyGpuId}" but the path says "${gpuId}"`);
    }
    return adminJson(store.upsertGpu({ ...fields, gpuId }));
  });

  app.post("/_admin/pricing", async (c) => {
    const { gpuType, region, pricePerHour } = await parseBody(pricingBodySchema, c);
    return adminJson(store.setPrice(gpuType, region, pricePerHour));
  });

  app.post("/_admin/providers/:providerId/status", async (c) => {
    const providerId = pathParam(c, "providerId");
    const { status } = await parseBody(providerStatusBodySchema, c);
    return adminJson(store.setProviderStatus(providerId, status));
  });

  app.post("/_admin/orderbook/:gpuType", async (c) => {
    const gpuType = pathParam(c, "gpuType");
    const { region, bids, asks } = await parseBody(orderBookBodySchema, c);
    return adminJson(store.setOrderBook(gpuType, region, { bids, asks }));
  });

  app.post("/_admin/reset", async (c) => {
    const body = await parseBody(resetBodySchema, c);
    return adminJson(store.reset(body));
  });

  app.get("/_admin/counters", () => adminJson(counters));

  app.post("/_admin/counters/reset", () => {
    counters = { requests: 0, byRoute: {}, byPath: {} };
    return adminJson(counters);
  });

  app.get("/_admin/faults", () => adminJson(faults));

  app.post("/_admin/faults", async (c) => {
    const body = await parseBody(faultsBodySchema, c);
    if (body.latencyMs !== undefined) faults.latencyMs = body.latencyMs;
    if (body.failStatus !== undefined) faults.failStatus = body.failStatus;
    return adminJson(faults);
  });

  // ---- fallbacks ------------------------------------------------------------------------------

  app.notFound(() => errorResponse(404, "Not found"));

  app.onError((error) => {
    if (error instanceof InputError) return errorResponse(400, error.message, { issues: error.issues });
    if (error instanceof OriginError) return errorResponse(error.status, error.message);
    onUnexpectedError(error);
    return errorResponse(500, "Internal server error");
  });

  return app;
}

/** Names the query parameter that made a (type, region) lookup miss. */
function pairNotFound(store: MarketplaceStore, type: string, region: string): OriginNotFoundError {
  if (!store.getGpuType(type)) return new OriginNotFoundError("type", `unknown GPU type "${type}"`);
  return new OriginNotFoundError("region", `unknown region "${region}"`);
}
