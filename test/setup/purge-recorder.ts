/**
 * A front cache's purge endpoint that records what it is sent, for the Worker's HTTP-front
 * purger (workers/cache-purge/http-front-purger.ts) to talk to over a real socket. It speaks
 * the front-cache purge protocol: `PURGE` to any path with `X-Purge-Tags`, `X-Purge-Prefixes`
 * or `X-Purge-Everything: 1` (optional `X-Purge-Mode: invalidate`) → 200 `{"purged": n}`; none
 * of the three → 400. It listens on loopback only, so the protocol's 403 for other clients
 * cannot arise. A test makes it fail on purpose with
 * `?status=<code>` (and `&retry-after=<s>`) in the URL it configures, and reads what one path
 * received from `GET /_recorded?path=<path>`; each test uses a path of its own.
 */
import { Hono } from "hono";
import { type ServedApp, serveApp } from "../../dev/support/serve-app";

export interface RecordedPurge {
  readonly path: string;
  readonly search: string;
  /** The `x-purge-*` headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
}

export function startPurgeRecorder(): Promise<ServedApp> {
  const received = new Map<string, RecordedPurge[]>();
  const app = new Hono();

  app.on("PURGE", "*", (c) => {
    const url = new URL(c.req.url);
    const headers: Record<string, string> = {};
    for (const [name, value] of c.req.raw.headers) if (name.startsWith("x-purge-")) headers[name] = value;
    const list = received.get(url.pathname) ?? [];
    list.push({ path: url.pathname, search: url.search, headers });
    received.set(url.pathname, list);

    const status = Number(url.searchParams.get("status") ?? 200);
    if (status !== 200) {
      const retryAfter = url.searchParams.get("retry-after");
      return c.json({ error: `told to answer ${status}` }, status as 500, {
        ...(retryAfter ? { "Retry-After": retryAfter } : {}),
      });
    }
    const listed = headers["x-purge-tags"] ?? headers["x-purge-prefixes"];
    if (listed === undefined && headers["x-purge-everything"] !== "1") {
      return c.json({ error: "X-Purge-Tags, X-Purge-Prefixes or X-Purge-Everything: 1 required" }, 400);
    }
    return c.json({ purged: listed === undefined ? 0 : listed.split(" ").filter(Boolean).length });
  });

  app.get("/_recorded", (c) => c.json(received.get(c.req.query("path") ?? "") ?? []));

  return serveApp(app);
}
