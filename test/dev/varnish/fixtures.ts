/**
 * What the Varnish tests share: finding varnishd (a failure under CI=true, a printed skip
 * elsewhere), a backend whose answers each test scripts per path and which records what
 * reached it, and a raw request as a client from outside loopback (through the PROXY listener).
 */
import { connect } from "node:net";
import { Hono } from "hono";
import { type ServedApp, serveApp } from "../../../dev/support/serve-app";
import { findVarnishd, VARNISH_INSTALL_HINT } from "../../../dev/varnish/varnishd";

/** varnishd's path; throws under CI=true when it is missing, so CI cannot pass by skipping. */
export function varnishdForTests(suite: string): string | undefined {
  const binary = findVarnishd();
  if (binary) return binary;
  if (process.env.CI === "true")
    throw new Error(`CI=true but varnishd is not installed, so ${suite} cannot run: ${VARNISH_INSTALL_HINT}`);
  console.warn(`\n[${suite}] skipped: varnishd not found (${VARNISH_INSTALL_HINT})\n`);
  return undefined;
}

export type Script = (request: Request, call: number) => Response | Promise<Response>;

export interface SeenRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: Headers;
}

export interface ScriptedBackend {
  readonly port: number;
  readonly url: string;
  /** How `path` (path only) is answered from now on; `call` counts that path's requests from 1. */
  script(path: string, script: Script): void;
  /** Every request that reached the backend for `path` (path only), oldest first. */
  seen(path: string): SeenRequest[];
  /** Resolves on the `count`-th request for `path` (at once when it came already). */
  reached(path: string, count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startScriptedBackend(): Promise<ScriptedBackend> {
  const scripts = new Map<string, Script>();
  const seen = new Map<string, SeenRequest[]>();
  const waiters = new Set<{ path: string; count: number; resolve: () => void }>();
  const app = new Hono();
  app.all("*", async (c) => {
    const url = new URL(c.req.url);
    const list = seen.get(url.pathname) ?? [];
    list.push({
      method: c.req.method,
      url: `${url.pathname}${url.search}`,
      headers: new Headers(c.req.raw.headers),
    });
    seen.set(url.pathname, list);
    for (const waiter of waiters) {
      if (waiter.path !== url.pathname || list.length < waiter.count) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
    const script = scripts.get(url.pathname);
    if (!script)
      return c.json({ error: `no script for ${url.pathname}` }, 404, { "Cache-Control": "no-store" });
    return script(c.req.raw, list.length);
  });
  const served: ServedApp = await serveApp(app);
  return {
    port: served.port,
    url: served.url,
    script: (path, script) => scripts.set(path, script),
    seen: (path) => seen.get(path) ?? [],
    reached: (path, count) =>
      (seen.get(path)?.length ?? 0) >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.add({ path, count, resolve })),
    close: () => served.close(),
  };
}

/** A JSON answer with these headers. */
export function answer(body: unknown, headers: Record<string, string>, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * Sends one HTTP/1.1 request through a PROXY-protocol listener as if from `clientIp`, and
 * returns the status code.
 */
export function requestAsClient(
  port: number,
  clientIp: string,
  request: { method: string; path: string; headers: Record<string, string> },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
    socket.on("data", (chunk) => {
      response += chunk.toString();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1];
      if (status) resolve(Number(status));
      else reject(new Error(`not an HTTP answer: ${JSON.stringify(response.slice(0, 200))}`));
    });
    const headers = Object.entries({ Host: "local", ...request.headers, Connection: "close" })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(
      `PROXY TCP4 ${clientIp} 127.0.0.1 40000 80\r\n${request.method} ${request.path} HTTP/1.1\r\n${headers}\r\n`,
    );
  });
}
