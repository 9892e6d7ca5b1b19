/**
 * The bridge's round-trip delay (dev/bridge/delay.ts): one wait per HTTP request, whatever the
 * request carries, so a pipeline or a transaction costs one round trip as it does at Upstash;
 * none at all by default; bad values refused with a clear error before anything starts.
 *
 * The waits run on manual timers, so no test sleeps through them; one test takes the real
 * timers through a real server and the real client, for a delay of a few ms.
 */
import { Redis } from "@upstash/redis";
import { describe, expect, inject, it } from "vitest";
import type { Timers } from "../../../core/time/clock";
import { createBridgeApp } from "../../../dev/bridge/app";
import { checkDelayMs, InvalidDelayError, parseDelayMs } from "../../../dev/bridge/delay";
import { createEmulatorBackend } from "../../../dev/bridge/emulator-backend";
import { startBridgeServer } from "../../../dev/bridge/server";
import { runScript } from "../../support/run-script";

const TOKEN = "delay-token";

/** Timers that fire only when told: `pending` holds every wait asked for, in order. */
function manualTimers() {
  const pending: Array<{ ms: number; fire: () => void }> = [];
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      pending.push({ ms, fire: callback });
      return pending.length;
    },
    clearTimeout: () => {},
  };
  return {
    timers,
    pending,
    fireAll() {
      for (const timer of pending.splice(0)) timer.fire();
    },
  };
}

/** Lets the request's own awaits run (body reading, the middleware) without any real wait. */
async function turns(count = 20): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

async function post(
  app: ReturnType<typeof createBridgeApp>,
  path: string,
  body: unknown,
  token = TOKEN,
): Promise<Response> {
  return app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Sends one request and reports the waits it asked for before it answered, and that it did not answer before them. */
async function waitsOf(
  delayMs: number,
  send: (app: ReturnType<typeof createBridgeApp>) => Promise<Response>,
) {
  const clock = manualTimers();
  const app = createBridgeApp({
    backend: createEmulatorBackend(),
    token: TOKEN,
    delayMs,
    timers: clock.timers,
  });
  let answered = false;
  const response = send(app).then((answer) => {
    answered = true;
    return answer;
  });
  await turns();
  const answeredBeforeTheWait = answered;
  const waits = clock.pending.map((timer) => timer.ms);
  clock.fireAll();
  const answer = await response;
  // Nothing more was asked for after the first wait fired.
  expect(clock.pending).toEqual([]);
  return { waits, answeredBeforeTheWait, answer };
}

describe("bridge round-trip delay", () => {
  it("holds a single command's answer until one wait of the delay has passed", async () => {
    const { waits, answeredBeforeTheWait, answer } = await waitsOf(20, (app) =>
      post(app, "/", ["SET", "k", "v"]),
    );
    expect(waits).toEqual([20]);
    expect(answeredBeforeTheWait).toBe(false);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ result: "OK" });
  });

  it("costs a pipeline and a transaction one wait each, however many commands they carry", async () => {
    const commands = Array.from({ length: 50 }, (_, index) => ["INCR", `counter-${index % 3}`]);
    const pipeline = await waitsOf(7.5, (app) => post(app, "/pipeline", commands));
    expect(pipeline.waits).toEqual([7.5]);
    expect(pipeline.answeredBeforeTheWait).toBe(false);
    expect((await pipeline.answer.json()) as unknown[]).toHaveLength(50);

    const transaction = await waitsOf(7.5, (app) => post(app, "/multi-exec", commands));
    expect(transaction.waits).toEqual([7.5]);
    expect((await transaction.answer.json()) as unknown[]).toHaveLength(50);
  });

  it("makes refused requests pay the trip too, and refuses them as before", async () => {
    const { waits, answer } = await waitsOf(5, (app) => post(app, "/", ["GET", "k"], "wrong-token"));
    expect(waits).toEqual([5]);
    expect(answer.status).toBe(401);
  });

  it("waits for nothing by default or at 0", async () => {
    for (const delayMs of [undefined, 0]) {
      const clock = manualTimers();
      const app = createBridgeApp({
        backend: createEmulatorBackend(),
        token: TOKEN,
        timers: clock.timers,
        ...(delayMs === undefined ? {} : { delayMs }),
      });
      const answer = await post(app, "/", ["PING"]);
      expect(answer.status).toBe(200);
      expect(clock.pending).toEqual([]);
    }
  });

  it("answers after the delay on real timers, through a real server and the real client", async () => {
    const redisUrl = inject("redisUrl");
    const delayMs = 15;
    const bridge = await startBridgeServer({ token: TOKEN, delayMs, ...(redisUrl ? { redisUrl } : {}) });
    try {
      const redis = new Redis({
        url: bridge.url,
        token: TOKEN,
        enableAutoPipelining: false,
        enableTelemetry: false,
      });
      await redis.ping(); // the connection is up before anything is timed
      const started = performance.now();
      await redis.set("delay:real", "1");
      // A timer may fire up to 1 ms early by the monotonic clock's rounding.
      expect(performance.now() - started).toBeGreaterThanOrEqual(delayMs - 1);
      const before = { ...bridge.usage };
      await redis.pipeline().get("delay:real").incr("delay:real").exec();
      expect(bridge.usage.requests - before.requests).toBe(1);
      expect(bridge.usage.commands - before.commands).toBe(2);
    } finally {
      await bridge.close();
    }
  });
});

describe("bridge delay option", () => {
  it("takes non-negative finite milliseconds and refuses anything else, naming the option", () => {
    expect(checkDelayMs(0)).toBe(0);
    expect(checkDelayMs(2.5)).toBe(2.5);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "20", null]) {
      expect(() => checkDelayMs(bad, "delayMs"), String(bad)).toThrow(InvalidDelayError);
    }
    expect(() => checkDelayMs(-1, "delayMs")).toThrow(
      "delayMs must be a non-negative number of milliseconds, got -1",
    );
  });

  it("parses the CLI's text as a plain decimal only", () => {
    expect(parseDelayMs("20")).toBe(20);
    expect(parseDelayMs(" 2.5 ")).toBe(2.5);
    expect(parseDelayMs("0")).toBe(0);
    for (const bad of ["", "abc", "-5", "0x10", "1e3", "20ms", "Infinity"]) {
      expect(() => parseDelayMs(bad), bad).toThrow(InvalidDelayError);
    }
    expect(() => parseDelayMs("abc")).toThrow(
      "--delay-ms must be a non-negative number of milliseconds, got 'abc'",
    );
  });

  it("refuses a bad delay in the app and the server before anything starts", async () => {
    expect(() => createBridgeApp({ backend: createEmulatorBackend(), token: TOKEN, delayMs: -3 })).toThrow(
      InvalidDelayError,
    );
    // With a Redis URL nothing listens at, a connection attempt would fail differently: the delay is checked first.
    await expect(
      startBridgeServer({ token: TOKEN, delayMs: Number.NaN, redisUrl: "redis://127.0.0.1:1" }),
    ).rejects.toThrow(InvalidDelayError);
  });

  it("the CLI stops at start with the error and the usage, before it listens", async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const { code, stdout, stderr } = await runScript("dev/bridge/cli.ts", ["--delay-ms", "soon"], { env });
    expect(code).toBe(2);
    expect(stderr).toContain("--delay-ms must be a non-negative number of milliseconds, got 'soon'");
    expect(stderr).toContain("--delay-ms MS");
    expect(stdout).not.toContain("redis-rest:");
  }, 30_000);
});
