/**
 * The bridge closed and bounded, over both backends as contract.test.ts runs: server
 * administration refused as Upstash refuses it (FLUSHALL/FLUSHDB too, on purpose), bodies
 * refused by their declared length and cut off at the cap when streamed, a long pipeline that
 * leaves room for other requests, 405 with Allow, and no listening beyond loopback with the
 * public token.
 *
 * Each backend gets a bridge of its own (and the real one a redis-server of its own): a
 * bridge that let FLUSHALL or SHUTDOWN through must not take the shared test Redis with it.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBridgeApp, DEFAULT_MAX_BODY_BYTES } from "../../../dev/bridge/app";
import type { RedisBackend } from "../../../dev/bridge/backend";
import { createEmulatorBackend } from "../../../dev/bridge/emulator-backend";
import {
  BridgeExposureError,
  isLoopbackHost,
  PUBLIC_DEV_TOKEN,
  type RunningBridge,
  startBridgeServer,
} from "../../../dev/bridge/server";
import { findRedisServer, type RedisServerChild, startRedisServer } from "../../../dev/local/redis-server";
import { runScript } from "../../support/run-script";
import { within } from "../../support/within";
import { type BackendKind, rawRequest } from "./contract-suite";

const TOKEN = "hardening-token";

/** Administration Upstash does not offer a REST client, as the client may spell it, and the name the refusal quotes. */
const ADMIN_COMMANDS: ReadonlyArray<{ command: unknown[]; quoted: string }> = [
  { command: ["flushall"], quoted: "flushall" },
  { command: ["FlushAll", "ASYNC"], quoted: "flushall" },
  { command: ["FLUSHDB"], quoted: "flushdb" },
  { command: ["config", "set", "maxmemory", 1], quoted: "config" },
  { command: ["CONFIG", "GET", "*"], quoted: "config" },
  { command: ["shutdown", "nosave"], quoted: "shutdown" },
  { command: ["replicaof", "127.0.0.1", 1], quoted: "replicaof" },
  { command: ["slaveof", "127.0.0.1", 1], quoted: "slaveof" },
  { command: ["module", "load", "/tmp/no-such-module.so"], quoted: "module" },
  { command: ["acl", "setuser", "intruder", "on", ">secret", "+@all"], quoted: "acl" },
  { command: ["debug", "sleep", 0], quoted: "debug" },
  { command: ["save"], quoted: "save" },
  { command: ["bgsave"], quoted: "bgsave" },
  { command: ["bgrewriteaof"], quoted: "bgrewriteaof" },
  { command: ["lastsave"], quoted: "lastsave" },
  { command: ["failover", "abort"], quoted: "failover" },
  { command: ["sync"], quoted: "sync" },
  { command: ["psync", "?", -1], quoted: "psync" },
  { command: ["cluster", "info"], quoted: "cluster" },
  { command: ["migrate", "127.0.0.1", 1, "k", 0, 10], quoted: "migrate" },
  { command: ["swapdb", 0, 1], quoted: "swapdb" },
  { command: ["client", "kill", "type", "normal"], quoted: "client kill" },
  { command: ["CLIENT", "PAUSE", 1000], quoted: "client pause" },
  { command: ["slowlog", "reset"], quoted: "slowlog reset" },
  { command: ["latency", "RESET"], quoted: "latency reset" },
];

/**
 * POSTs `first` and then neither sends the rest nor ends the body, as a slow or hostile
 * client does; resolves with the answer the bridge gives meanwhile.
 */
function postUnfinished(
  baseUrl: string,
  headers: Record<string, string>,
  first: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(new URL("/pipeline", baseUrl), { method: "POST", headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => {
        outgoing.destroy();
        resolve({ status: response.statusCode ?? 0, text });
      });
      response.on("error", reject);
    });
    // Once it has answered, the server may drop the rest of the upload.
    outgoing.on("error", () => {});
    outgoing.write(first);
  });
}

/** `count` short SETs under `prefix`: about 45 bytes each, so the bridge's 10 MiB cap holds ~230,000. */
function smallSets(prefix: string, count: number): unknown[][] {
  return Array.from({ length: count }, (_, index) => ["set", `${prefix}:${index}`, "v".repeat(20)]);
}

describe.for<BackendKind>(["redis", "emulator"])("bridge hardening · %s", (backend) => {
  let server: RedisServerChild | undefined;
  let bridge: RunningBridge;
  let small: RunningBridge;
  const raw = (path: string, body: unknown, options?: Parameters<typeof rawRequest>[5]) =>
    rawRequest(bridge.url, TOKEN, false, path, body, options);
  const exists = async (key: string) =>
    ((await raw("/", ["exists", key])).json() as { result: number }).result;

  beforeAll(async () => {
    if (backend === "redis") {
      // The real-server half is the point: never let it quietly run over the emulator.
      if (!findRedisServer()) throw new Error("bridge hardening needs redis-server on PATH");
      server = await startRedisServer();
    }
    const redisUrl = server ? { redisUrl: server.url } : {};
    bridge = await startBridgeServer({ token: TOKEN, ...redisUrl });
    small = await startBridgeServer({ token: TOKEN, maxBodyBytes: 64 * 1024, ...redisUrl });
  });

  afterAll(async () => {
    await small?.close();
    await bridge?.close();
    await server?.stop();
  });

  describe("server administration is refused as Upstash refuses it", () => {
    it.for(ADMIN_COMMANDS.map((admin) => ({ ...admin, sent: JSON.stringify(admin.command) })))(
      "$sent → 400 'ERR Command is not available', on every endpoint, nothing applied",
      async ({ command, quoted }) => {
        const sentinel = `hardening:${backend}:sentinel:${quoted}`;
        const marker = `hardening:${backend}:marker:${quoted}`;
        expect((await raw("/", ["set", sentinel, "kept"])).status).toBe(200);
        const expected = { error: `ERR Command is not available: '${quoted}'` };

        const single = await raw("/", command, { signal: AbortSignal.timeout(5_000) });
        expect(single.status).toBe(400);
        expect(single.json()).toEqual(expected);
        for (const path of ["/pipeline", "/multi-exec"]) {
          const batch = await raw(path, [["set", marker, "v"], command], {
            signal: AbortSignal.timeout(5_000),
          });
          expect(batch.status).toBe(400);
          expect(batch.json()).toEqual(expected);
        }
        // The batch was refused whole, and nothing was flushed, stopped or reconfigured.
        expect(await exists(marker)).toBe(0);
        expect((await raw("/", ["get", sentinel])).json()).toEqual({ result: "kept" });
      },
    );

    it("leaves the harmless neighbours and scripts alone", async () => {
      for (const command of [
        ["client", "list"],
        ["slowlog", "get"],
      ]) {
        expect((await raw("/", command)).text).not.toContain("not available");
      }
      expect((await raw("/", ["eval", "return 7", 0])).json()).toEqual({ result: 7 });
    });
  });

  it("answers 405 with Allow: POST to other methods", async () => {
    for (const [method, path] of [
      ["GET", "/"],
      ["PUT", "/pipeline"],
      ["DELETE", "/multi-exec"],
      ["GET", "/subscribe/chan"],
    ] as const) {
      const response = await raw(path, undefined, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect((response.json() as { error: string }).error).toContain(method);
    }
  });

  describe("bodies past the cap", () => {
    it("a declared Content-Length over the cap is 413 before the body is sent", async () => {
      const answer = await within(
        postUnfinished(
          small.url,
          {
            authorization: `Bearer ${TOKEN}`,
            "content-type": "application/json",
            "content-length": String(64 * 1024 * 1024),
          },
          Buffer.from('[["set","k","'),
        ),
        5_000,
        "a 64 MiB declared body of which 13 bytes were sent",
      );
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ error: `request body exceeds ${64 * 1024} bytes` });
    });

    it("a chunked body without a length is 413 once it passes the cap, without waiting for its end", async () => {
      const key = `hardening:${backend}:streamed`;
      const answer = await within(
        postUnfinished(
          small.url,
          { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          Buffer.from(`[["set","${key}","${"x".repeat(128 * 1024)}`),
        ),
        5_000,
        "a chunked body past the cap that never ends",
      );
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ error: `request body exceeds ${64 * 1024} bytes` });
      expect(await exists(key)).toBe(0);
    });
  });

  it("a pipeline of 200,000 short commands runs whole while a concurrent PING keeps being answered", async () => {
    const prefix = `hb${backend.slice(0, 1)}`;
    const count = 200_000;
    const body = JSON.stringify(smallSets(prefix, count));
    expect(body.length).toBeGreaterThan(8 * 1024 * 1024);
    expect(body.length).toBeLessThan(DEFAULT_MAX_BODY_BYTES);

    let running = true;
    let slowestPingMs = 0;
    const pinger = (async () => {
      while (running) {
        const started = performance.now();
        expect((await raw("/", ["ping"])).json()).toEqual({ result: "PONG" });
        slowestPingMs = Math.max(slowestPingMs, performance.now() - started);
      }
    })();
    const started = performance.now();
    const answer = await raw("/pipeline", body);
    const pipelineMs = performance.now() - started;
    running = false;
    await pinger;

    expect(answer.status).toBe(200);
    const results = answer.json() as unknown[];
    expect(results).toHaveLength(count);
    expect(new Set(results.map((result) => JSON.stringify(result)))).toEqual(new Set(['{"result":"OK"}']));
    expect(await exists(`${prefix}:${count - 1}`)).toBe(1);
    // Handled as one block, the pipeline held every PING until its own end (3.5 s of a 3.6 s pipeline).
    expect(slowestPingMs).toBeLessThan(pipelineMs / 2);
  }, 60_000);
});

describe("pipeline slices", () => {
  it("a long pipeline reaches the backend a slice at a time, in order, and answers every command", async () => {
    const inner = createEmulatorBackend();
    const sizes: number[] = [];
    const recording: RedisBackend = {
      ...inner,
      pipeline(commands) {
        sizes.push(commands.length);
        return inner.pipeline(commands);
      },
    };
    const app = createBridgeApp({ backend: recording, token: TOKEN });
    try {
      const commands = Array.from({ length: 4_500 }, (_, index) => ["incr", `slices:${index % 3}`]);
      const response = await app.request("/pipeline", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(commands),
      });
      expect(response.status).toBe(200);
      const results = (await response.json()) as Array<{ result: number }>;
      expect(results.map((result) => result.result)).toEqual(
        Array.from({ length: 4_500 }, (_, index) => Math.floor(index / 3) + 1),
      );
      expect(sizes).toEqual([1_000, 1_000, 1_000, 1_000, 500]);
    } finally {
      await inner.close();
    }
  });
});

describe("listening beyond loopback", () => {
  it("tells loopback addresses apart", () => {
    for (const host of [
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
      "localhost",
      "LOCALHOST",
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      "0.0.0.0",
      "::",
      "192.0.2.10",
      "10.0.0.1",
      "example.com",
      "localhost.example.com",
      "",
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("startBridgeServer refuses a non-loopback host with the public token, naming the settings to change", async () => {
    for (const hostname of ["0.0.0.0", "::", "192.0.2.10"]) {
      const error = await startBridgeServer({ token: PUBLIC_DEV_TOKEN, hostname }).catch(
        (caught: unknown) => caught,
      );
      expect(error, hostname).toBeInstanceOf(BridgeExposureError);
      expect((error as Error).message).toContain("--token");
      expect((error as Error).message).toContain("UPSTASH_REDIS_REST_TOKEN");
    }
  });

  it("listens anywhere with a token of its own, and on loopback with the public one", async () => {
    for (const options of [
      { token: "a-secret-of-my-own", hostname: "0.0.0.0" },
      { token: PUBLIC_DEV_TOKEN, hostname: "localhost" },
      { token: PUBLIC_DEV_TOKEN },
    ]) {
      const running = await startBridgeServer(options);
      await running.close();
    }
  });

  it("the CLI fails at start with the one error, before it listens", async () => {
    const env = { ...process.env };
    delete env.UPSTASH_REDIS_REST_TOKEN;
    delete env.REDIS_URL;
    const { code, stdout, stderr } = await runScript("dev/bridge/cli.ts", ["--host", "0.0.0.0"], { env });
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to listen on '0\.0\.0\.0' with the public default token/);
    expect(stderr).toContain("--token");
    expect(stdout).not.toContain("redis-rest:");
  }, 30_000);
});
