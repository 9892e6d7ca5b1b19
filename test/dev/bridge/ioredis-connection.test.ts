/**
 * The bridge's Redis connection (dev/bridge/ioredis-connection.ts) against a real
 * redis-server it loses and gets back: reconnect attempts wait on injected timers, with
 * ioredis's growing delay, and a closed connection has none pending.
 */
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { openBridgeConnection, reconnectDelayMs } from "../../../dev/bridge/ioredis-connection";
import { findRedisServer, type RedisServerChild, startRedisServer } from "../../../dev/local/redis-server";
import { ManualTimers } from "../../support/manual-timers";

const silent = { warn: () => {} };
const next = (redis: Redis, event: "end" | "ready") =>
  new Promise<void>((resolve) => redis.once(event, () => resolve()));

const servers: RedisServerChild[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

describe.runIf(findRedisServer())("bridge Redis connection", () => {
  it("reconnects on its timers once Redis is back, and a closed one never does", async () => {
    const first = await startRedisServer();
    servers.push(first);
    const timers = new ManualTimers();
    const warnings: string[] = [];
    const connection = openBridgeConnection({
      url: first.url,
      connectionName: "bridge-connection-test",
      logger: { warn: (line: string) => warnings.push(line) },
      timers,
    });
    await connection.connect();
    expect(await connection.redis.call("PING")).toBe("PONG");

    const ended = next(connection.redis, "end");
    await first.stop();
    await ended;
    // The first attempt waits 50 ms; a failed one ends the connection again and waits longer.
    expect(timers.pendingCount).toBe(1);
    const failedAgain = next(connection.redis, "end");
    timers.advance(reconnectDelayMs(1));
    await failedAgain;
    expect(timers.pendingCount).toBe(1);
    expect(warnings).toHaveLength(1);
    await expect(connection.redis.call("PING")).rejects.toThrow();

    const revived = await startRedisServer({ port: first.port });
    servers.push(revived);
    const ready = next(connection.redis, "ready");
    timers.advance(reconnectDelayMs(2) - 1);
    expect(timers.pendingCount).toBe(1);
    timers.advance(1);
    await ready;
    expect(await connection.redis.call("PING")).toBe("PONG");
    expect(String(await connection.redis.call("CLIENT", "LIST"))).toMatch(/name=bridge-connection-test/);

    // The socket's end arrives after close() returns: it must not schedule an attempt either.
    const closed = next(connection.redis, "end");
    await connection.close({ graceful: true });
    await closed;
    expect(timers.pendingCount).toBe(0);
  });

  it("cancels a pending reconnect when closed while Redis is gone", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const timers = new ManualTimers();
    const connection = openBridgeConnection({
      url: server.url,
      connectionName: "bridge-connection-closed",
      logger: silent,
      timers,
    });
    await connection.connect();
    const ended = next(connection.redis, "end");
    await server.stop();
    await ended;
    expect(timers.pendingCount).toBe(1);
    await connection.close({ graceful: true });
    expect(timers.pendingCount).toBe(0);
  });
});
