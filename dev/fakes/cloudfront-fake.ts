/**
 * A local CloudFront that speaks CreateInvalidation / GetInvalidation on the REST-XML
 * wire format (docs/wire-formats.md "CloudFront CreateInvalidation"), so the real
 * `@aws-sdk/client-cloudfront` can be pointed at it (`endpoint: fake.url`). It
 * records every accepted invalidation (`GET /_fake/purges` shows them) and keeps
 * CloudFront's rules: SigV4 Authorization present, Quantity = number of Items,
 * at most 3,000 paths per batch (BatchTooLarge), same CallerReference + paths →
 * the same invalidation, at most 15 wildcard / 3,000 individual paths in progress
 * (TooManyInvalidationsInProgress). In-progress invalidations complete after
 * `completeAfterMs` or on `completeAll()`. `failNext(n, kind)` injects errors.
 *
 * With `varnishBans`, an invalidation also takes effect: after a completion delay (CloudFront
 * completes invalidations minutes later) its paths are banned on the Varnish playing CloudFront's
 * caches (dev/varnish/back.vcl: `PURGE` with `X-Invalidation-Paths`), and only then is it Completed.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { systemTimers, type Timers } from "../../core/time/clock";
import { escapeXml } from "../support/escape-xml";
import { serveApp } from "../support/serve-app";
import { child, parseXml, XmlParseError } from "./xml";

export const CLOUDFRONT_XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
const API = "/2020-05-31";

export type CloudFrontFailureKind =
  | "TooManyInvalidationsInProgress"
  | "Throttling"
  | "InternalError"
  | "AccessDenied";

const FAILURES: Readonly<Record<CloudFrontFailureKind, { status: 400 | 403 | 500; message: string }>> = {
  TooManyInvalidationsInProgress: {
    status: 400,
    message: "Your request contains too many invalidations in progress.",
  },
  Throttling: { status: 400, message: "Rate exceeded" },
  InternalError: { status: 500, message: "We encountered an internal error. Please try again." },
  AccessDenied: { status: 403, message: "Access denied." },
};

export interface CloudFrontFakeOptions {
  /** 0 or unset: a free port. */
  readonly port?: number;
  readonly hostname?: string;
  /** In-progress invalidations report Completed after this long (default 5,000 ms; Infinity: only completeAll()). */
  readonly completeAfterMs?: number;
  readonly maxPathsPerInvalidation?: number;
  readonly maxWildcardsInProgress?: number;
  readonly maxPathsInProgress?: number;
  /** When set, only these distribution ids exist (others are NoSuchDistribution). */
  readonly distributions?: readonly string[];
  /** Milliseconds, for completion times (default Date.now). */
  readonly now?: () => number;
  /** Ban each accepted invalidation's paths on a Varnish once it completes (see the top of this file). */
  readonly varnishBans?: VarnishBanOptions;
}

export interface VarnishBanOptions {
  /** The Varnish in CloudFront's role. */
  readonly url: string;
  /** How long after its creation an invalidation takes effect (default 3,000 ms); `completeAfterMs` does not apply. */
  readonly completionDelayMs?: number;
  readonly timers?: Timers;
  /** Where a ban Varnish refused is reported (default console). */
  readonly logger?: Pick<Console, "warn">;
}

/** What became of one invalidation's bans. */
export interface RecordedBan {
  readonly invalidationId: string;
  readonly paths: readonly string[];
  /** `failed`: Varnish refused or did not answer; the invalidation stays InProgress. */
  readonly status: "applied" | "failed";
  readonly error?: string;
}

export interface RecordedInvalidation {
  /** ISO-8601 creation time. */
  readonly time: string;
  readonly distributionId: string;
  readonly id: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
}

export interface RecordedCloudFrontRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The error code, for failed requests. */
  readonly code?: string;
}

export interface CloudFrontFake {
  readonly url: string;
  /** Every accepted (newly created) invalidation, in order. */
  readonly purges: RecordedInvalidation[];
  /** Every API request (not /_fake), with its answer. */
  readonly requests: RecordedCloudFrontRequest[];
  /** The next `count` CreateInvalidation requests fail with `kind` (default TooManyInvalidationsInProgress). */
  failNext(count: number, kind?: CloudFrontFailureKind): void;
  /** Marks every invalidation Completed. */
  completeAll(): void;
  /** Invalidations still in progress. */
  inProgress(distributionId?: string): RecordedInvalidation[];
  /** With `varnishBans`: every ban sent so far, in order (also at GET /_fake/bans). */
  readonly bans: RecordedBan[];
  /** Resolves when every ban whose delay has passed has been answered. */
  bansSettled(): Promise<void>;
  close(): Promise<void>;
}

interface StoredInvalidation extends RecordedInvalidation {
  readonly createdAt: number;
  completed: boolean;
}

class FakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const INVALIDATION_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
function invalidationId(): string {
  let id = "I";
  for (let i = 0; i < 13; i++)
    id += INVALIDATION_ID_ALPHABET[Math.floor(Math.random() * INVALIDATION_ID_ALPHABET.length)];
  return id;
}

function batchXml(invalidation: RecordedInvalidation): string {
  const items = invalidation.paths.map((path) => `<Path>${escapeXml(path)}</Path>`).join("");
  return (
    `<InvalidationBatch><Paths><Quantity>${invalidation.paths.length}</Quantity>` +
    `${invalidation.paths.length > 0 ? `<Items>${items}</Items>` : ""}</Paths>` +
    `<CallerReference>${escapeXml(invalidation.callerReference)}</CallerReference></InvalidationBatch>`
  );
}

function invalidationXml(invalidation: RecordedInvalidation, status: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Invalidation xmlns="${CLOUDFRONT_XMLNS}">` +
    `<Id>${invalidation.id}</Id><Status>${status}</Status><CreateTime>${invalidation.time}</CreateTime>` +
    `${batchXml(invalidation)}</Invalidation>`
  );
}

function errorXml(code: string, message: string, status: number, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${CLOUDFRONT_XMLNS}"><Error>` +
    `<Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** Reads an InvalidationBatch body; throws FakeError with CloudFront's code for anything wrong. */
function parseBatch(body: string, maxPaths: number): { paths: string[]; callerReference: string } {
  if (body.trim() === "") throw new FakeError(400, "MissingBody", "The request body is missing.");
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(body);
  } catch (error) {
    const detail = error instanceof XmlParseError ? error.message : String(error);
    throw new FakeError(400, "InvalidArgument", `The XML you provided was not well-formed: ${detail}`);
  }
  if (root.name !== "InvalidationBatch")
    throw new FakeError(400, "InvalidArgument", `Expected <InvalidationBatch>, got <${root.name}>.`);
  const paths = child(root, "Paths");
  const callerReference = child(root, "CallerReference")?.text.trim();
  if (!paths) throw new FakeError(400, "InvalidArgument", "InvalidationBatch.Paths is required.");
  if (!callerReference)
    throw new FakeError(400, "InvalidArgument", "InvalidationBatch.CallerReference is required.");
  const quantityText = child(paths, "Quantity")?.text.trim() ?? "";
  if (!/^\d+$/.test(quantityText))
    throw new FakeError(400, "InvalidArgument", "Paths.Quantity must be a non-negative integer.");
  const quantity = Number(quantityText);
  const items = (child(paths, "Items")?.children ?? []).filter((item) => item.name === "Path");
  if (quantity !== items.length)
    throw new FakeError(
      400,
      "InconsistentQuantities",
      `Paths.Quantity is ${quantity} but ${items.length} Path items were sent.`,
    );
  if (items.length === 0) throw new FakeError(400, "InvalidArgument", "At least one path is required.");
  if (items.length > maxPaths)
    throw new FakeError(413, "BatchTooLarge", `At most ${maxPaths} paths may be sent in one invalidation.`);
  const list = items.map((item) => item.text);
  const bad = list.find((path) => !path.startsWith("/"));
  if (bad !== undefined) throw new FakeError(400, "InvalidArgument", `Path ${bad} must start with '/'.`);
  return { paths: list, callerReference };
}

/** One header stays well inside varnishd's 8 KiB header limit (dev/varnish/varnishd.ts). */
const MAX_BAN_HEADER_CHARS = 6_000;

/**
 * The paths in space-separated groups that fit one header. A URL holds no white space, quote or
 * backslash unencoded, so those are percent-encoded as a client's request would have them.
 */
function banHeaders(paths: readonly string[]): string[] {
  const groups: string[] = [];
  let current = "";
  for (const path of paths) {
    const encoded = path.replace(/[\s"\\]/g, (char) => encodeURIComponent(char));
    if (current && current.length + 1 + encoded.length > MAX_BAN_HEADER_CHARS) {
      groups.push(current);
      current = "";
    }
    current = current ? `${current} ${encoded}` : encoded;
  }
  if (current) groups.push(current);
  return groups;
}

/** Bans `paths` on the Varnish at `url`; throws with its answer when it refuses. */
async function banOnVarnish(url: string, paths: readonly string[]): Promise<void> {
  for (const header of banHeaders(paths)) {
    const response = await fetch(`${url}/`, {
      method: "PURGE",
      headers: { "X-Invalidation-Paths": header },
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Varnish answered ${response.status}: ${text}`);
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((path, i) => path === sortedB[i]);
}

export async function startCloudFrontFake(options: CloudFrontFakeOptions = {}): Promise<CloudFrontFake> {
  const now = options.now ?? Date.now;
  const completeAfterMs = options.completeAfterMs ?? 5_000;
  const maxPaths = options.maxPathsPerInvalidation ?? 3_000;
  const maxWildcards = options.maxWildcardsInProgress ?? 15;
  const maxPathsInProgress = options.maxPathsInProgress ?? 3_000;
  const distributions = options.distributions ? new Set(options.distributions) : undefined;

  const stored: StoredInvalidation[] = [];
  const purges: RecordedInvalidation[] = [];
  const requests: RecordedCloudFrontRequest[] = [];
  const injected: CloudFrontFailureKind[] = [];

  const varnish = options.varnishBans;
  const banTimers = varnish?.timers ?? systemTimers;
  const banLogger = varnish?.logger ?? console;
  const bans: RecordedBan[] = [];
  const scheduledBans = new Set<unknown>();
  const runningBans = new Set<Promise<void>>();
  /** After the delay, the bans; the invalidation completes when Varnish has applied them. */
  const scheduleBans = (invalidation: StoredInvalidation) => {
    if (!varnish) return;
    const handle = banTimers.setTimeout(() => {
      scheduledBans.delete(handle);
      const { id: invalidationId, paths } = invalidation;
      const work = banOnVarnish(varnish.url, paths).then(
        () => {
          invalidation.completed = true;
          bans.push({ invalidationId, paths, status: "applied" });
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          bans.push({ invalidationId, paths, status: "failed", error: message });
          banLogger.warn(
            `[cloudfront-fake] invalidation ${invalidationId} not applied on ${varnish.url}: ${message}`,
          );
        },
      );
      runningBans.add(work);
      void work.finally(() => runningBans.delete(work));
    }, varnish.completionDelayMs ?? 3_000);
    scheduledBans.add(handle);
  };

  // With bans, Completed means the bans were applied.
  const isCompleted = (invalidation: StoredInvalidation) =>
    invalidation.completed || (!varnish && now() - invalidation.createdAt >= completeAfterMs);
  const inProgress = (distributionId?: string) =>
    stored.filter(
      (invalidation) =>
        !isCompleted(invalidation) &&
        (distributionId === undefined || invalidation.distributionId === distributionId),
    );
  const record = ({ createdAt: _createdAt, completed: _completed, ...rest }: StoredInvalidation) => rest;

  const app = new Hono<{ Variables: { requestId: string } }>();

  app.get("/_fake/purges", (c) => c.json(purges));
  app.get("/_fake/bans", (c) => c.json(bans));
  app.post("/_fake/complete", (c) => {
    for (const invalidation of stored) invalidation.completed = true;
    return c.json({ completed: stored.length });
  });

  app.use(`${API}/*`, async (c, next) => {
    const requestId = randomUUID();
    c.set("requestId", requestId);
    c.header("x-amzn-RequestId", requestId);
    const authorization = c.req.header("authorization") ?? "";
    if (!/^AWS4-HMAC-SHA256 Credential=\S+/.test(authorization))
      throw new FakeError(403, "AccessDenied", "Missing or invalid AWS4-HMAC-SHA256 Authorization header.");
    const distributionId = c.req.path.split("/")[3] ?? "";
    if (distributions && !distributions.has(distributionId))
      throw new FakeError(404, "NoSuchDistribution", `The distribution ${distributionId} does not exist.`);
    await next();
    // Failures are recorded by onError.
    if (c.res.status < 400) requests.push({ method: c.req.method, path: c.req.path, status: c.res.status });
  });

  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    const failure =
      error instanceof FakeError
        ? error
        : new FakeError(500, "InternalError", `fake failure: ${String(error)}`);
    requests.push({ method: c.req.method, path: c.req.path, status: failure.status, code: failure.code });
    return new Response(errorXml(failure.code, failure.message, failure.status, requestId), {
      status: failure.status,
      headers: { "content-type": "text/xml", "x-amzn-RequestId": requestId },
    });
  });

  app.post(`${API}/distribution/:id/invalidation`, async (c) => {
    const distributionId = c.req.param("id");
    const failure = injected.shift();
    if (failure) throw new FakeError(FAILURES[failure].status, failure, FAILURES[failure].message);
    const { paths, callerReference } = parseBatch(await c.req.text(), maxPaths);

    const existing = stored.find(
      (invalidation) =>
        invalidation.distributionId === distributionId && invalidation.callerReference === callerReference,
    );
    let invalidation: StoredInvalidation;
    if (existing) {
      if (!sameSet(existing.paths, paths))
        throw new FakeError(
          409,
          "InvalidationBatchAlreadyExists",
          `CallerReference ${callerReference} was already used with different paths.`,
        );
      invalidation = existing;
    } else {
      const busy = inProgress(distributionId);
      const wildcards = paths.filter((path) => path.includes("*")).length;
      const busyWildcards = busy.reduce((n, i) => n + i.paths.filter((path) => path.includes("*")).length, 0);
      const busyPaths = busy.reduce((n, i) => n + i.paths.filter((path) => !path.includes("*")).length, 0);
      if (
        busyWildcards + wildcards > maxWildcards ||
        busyPaths + (paths.length - wildcards) > maxPathsInProgress
      )
        throw new FakeError(
          400,
          "TooManyInvalidationsInProgress",
          `Too many invalidations in progress: ${busyWildcards} wildcard and ${busyPaths} other paths already.`,
        );
      const createdAt = now();
      invalidation = {
        time: new Date(createdAt).toISOString(),
        distributionId,
        id: invalidationId(),
        callerReference,
        paths,
        createdAt,
        completed: false,
      };
      stored.push(invalidation);
      purges.push(record(invalidation));
      scheduleBans(invalidation);
    }
    c.header(
      "Location",
      `https://cloudfront.amazonaws.com${API}/distribution/${distributionId}/invalidation/${invalidation.id}`,
    );
    c.header("content-type", "text/xml");
    return c.body(invalidationXml(invalidation, isCompleted(invalidation) ? "Completed" : "InProgress"), 201);
  });

  app.get(`${API}/distribution/:id/invalidation/:invalidationId`, (c) => {
    const invalidation = stored.find(
      (candidate) =>
        candidate.distributionId === c.req.param("id") && candidate.id === c.req.param("invalidationId"),
    );
    if (!invalidation)
      throw new FakeError(
        404,
        "NoSuchInvalidation",
        `The invalidation ${c.req.param("invalidationId")} does not exist.`,
      );
    c.header("content-type", "text/xml");
    return c.body(invalidationXml(invalidation, isCompleted(invalidation) ? "Completed" : "InProgress"), 200);
  });

  const served = await serveApp(app, options);
  return {
    url: served.url,
    purges,
    requests,
    failNext(count, kind = "TooManyInvalidationsInProgress") {
      for (let i = 0; i < count; i++) injected.push(kind);
    },
    completeAll() {
      for (const invalidation of stored) invalidation.completed = true;
    },
    inProgress: (distributionId) => inProgress(distributionId).map(record),
    bans,
    bansSettled: async () => {
      await Promise.all([...runningBans]);
    },
    close: async () => {
      for (const handle of scheduledBans) banTimers.clearTimeout(handle);
      scheduledBans.clear();
      await Promise.all([...runningBans]);
      await served.close();
    },
  };
}
