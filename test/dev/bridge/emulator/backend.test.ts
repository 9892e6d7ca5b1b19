/**
 * The emulator behind the bridge's RedisBackend interface: bytes exact end to end,
 * subscriptions through subscribe() (channels and glob patterns, messages a script
 * publishes included), and transactions with Redis's queue-time and run-time errors.
 */
import { describe, expect, it } from "vitest";
import {
  NestedReplyError,
  type RedisBackend,
  RedisCommandError,
  type SubscriptionEvent,
} from "../../../../dev/bridge/backend";
import { openEmulator, toCommand } from "./reference";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

async function withEmulator(test: (backend: RedisBackend) => Promise<void>): Promise<void> {
  const backend = openEmulator();
  try {
    await test(backend);
  } finally {
    await backend.close();
  }
}

/** Lets queued message deliveries run. */
const delivered = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("the emulator backend", () => {
  it("keeps every byte of keys, fields, members and 1 MB values", async () => {
    await withEmulator(async (backend) => {
      const key = Buffer.from([0x6b, 0x00, 0xff, 0x0d, 0x0a]);
      const value = Buffer.alloc(1024 * 1024 + 7);
      for (let i = 0; i < value.length; i++) value[i] = (i * 31) % 256;
      await backend.execute({ name: "SET", args: [key, value] });
      const read = (await backend.execute({ name: "GET", args: [key] })) as Uint8Array;
      expect(Buffer.compare(Buffer.from(read), value)).toBe(0);
      expect(await backend.execute({ name: "STRLEN", args: [key] })).toBe(value.length);
      const field = Buffer.from([0xc3, 0x28, 0x00]);
      await backend.execute({ name: "HSET", args: [key.subarray(0, 2), field, Buffer.from([0x80])] });
      const all = (await backend.execute({ name: "HGETALL", args: [key.subarray(0, 2)] })) as Uint8Array[];
      expect(all.map((part) => Buffer.from(part).toString("hex"))).toEqual(["c32800", "80"]);
      await backend.execute({ name: "SADD", args: [Buffer.from("s"), Buffer.from([0xfe, 0x00])] });
      expect(
        await backend.execute({ name: "SISMEMBER", args: [Buffer.from("s"), Buffer.from([0xfe, 0x00])] }),
      ).toBe(1);
      expect(
        await backend.execute({ name: "SISMEMBER", args: [Buffer.from("s"), Buffer.from([0xfe])] }),
      ).toBe(0);
    });
  });

  it("answers status replies as text, bulk replies as bytes, errors inside arrays as NestedReplyError", async () => {
    await withEmulator(async (backend) => {
      expect(await backend.execute(toCommand(["SET", "k", "v"]))).toBe("OK");
      expect(text((await backend.execute(toCommand(["GET", "k"]))) as Uint8Array)).toBe("v");
      expect(
        await backend.execute(
          toCommand(["EVAL", "return {1, redis.error_reply('MY bad'), {ok = 'FINE'}}", "0"]),
        ),
      ).toEqual([1, new NestedReplyError("MY bad"), "FINE"]);
      await expect(backend.execute(toCommand(["LPUSH", "k", "x"]))).rejects.toThrow(
        new RedisCommandError("WRONGTYPE Operation against a key holding the wrong kind of value"),
      );
      const outcomes = await backend.pipeline([
        toCommand(["INCR", "n"]),
        toCommand(["LPUSH", "k", "x"]),
        toCommand(["INCR", "n"]),
      ]);
      expect(outcomes).toEqual([
        { ok: true, value: 1 },
        { ok: false, error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
        { ok: true, value: 2 },
      ]);
    });
  });

  it("error texts that quote arguments read as UTF-8, as from a real server", async () => {
    await withEmulator(async (backend) => {
      const expected = "ERR unknown command 'NOSUCH', with args beginning with: 'é' ";
      await expect(
        backend.execute(toCommand(["NOSUCH", Buffer.from("é").toString("latin1")])),
      ).rejects.toThrow(new RedisCommandError(expected));
      expect(
        await backend.pipeline([toCommand(["EXPIRE", "k", "1", Buffer.from("ü").toString("latin1")])]),
      ).toEqual([{ ok: false, error: "ERR Unsupported option ü" }]);
    });
  });

  it("a transaction with an unknown or wrong-arity command is discarded whole; run-time errors fail only their slot", async () => {
    await withEmulator(async (backend) => {
      for (const bad of [["NOSUCH", "x"], ["GET"], ["XINFO", "NOPE", "k"]]) {
        await expect(backend.transaction([toCommand(["SET", "a", "1"]), toCommand(bad)])).rejects.toThrow(
          new RedisCommandError("EXECABORT Transaction discarded because of previous errors."),
        );
      }
      expect(await backend.execute(toCommand(["EXISTS", "a"]))).toBe(0);
      await backend.execute(toCommand(["SET", "text", "x"]));
      const outcomes = await backend.transaction([
        toCommand(["SET", "a", "1"]),
        toCommand(["LPUSH", "text", "x"]),
        toCommand(["INCR", "a"]),
        toCommand(["INCR", "text"]),
      ]);
      expect(outcomes).toEqual([
        { ok: true, value: "OK" },
        { ok: false, error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
        { ok: true, value: 2 },
        { ok: false, error: "ERR value is not an integer or out of range" },
      ]);
    });
  });

  it("delivers channel messages with their bytes, counts subscribers, and stops at close", async () => {
    await withEmulator(async (backend) => {
      const events: SubscriptionEvent[] = [];
      const channel = Buffer.from([0x63, 0x00, 0xe9]);
      const subscription = await backend.subscribe("subscribe", channel, (event) => events.push(event));
      expect(subscription.count).toBe(1);
      const message = Buffer.from([0xff, 0x0d, 0x0a, 0x00]);
      expect(await backend.execute({ name: "PUBLISH", args: [channel, message] })).toBe(1);
      expect(
        await backend.execute(toCommand(["PUBSUB", "NUMSUB", channel.toString("latin1"), "other"])),
      ).toEqual([channel, 1, Buffer.from("other"), 0]);
      await delivered();
      expect(events).toEqual([{ kind: "message", channel, message }]);
      await subscription.close();
      await subscription.close();
      expect(await backend.execute({ name: "PUBLISH", args: [channel, message] })).toBe(0);
      expect(await backend.execute(toCommand(["PUBSUB", "CHANNELS"]))).toEqual([]);
    });
  });

  it("delivers to glob patterns as Redis matches them, with the pattern and the channel", async () => {
    await withEmulator(async (backend) => {
      const events: SubscriptionEvent[] = [];
      const news = await backend.subscribe("psubscribe", Buffer.from("news:[a-c]*"), (event) =>
        events.push(event),
      );
      const exact = await backend.subscribe("psubscribe", Buffer.from("h?llo"), (event) =>
        events.push(event),
      );
      expect(await backend.execute(toCommand(["PUBSUB", "NUMPAT"]))).toBe(2);
      expect(await backend.execute(toCommand(["PUBLISH", "news:art", "1"]))).toBe(1);
      expect(await backend.execute(toCommand(["PUBLISH", "news:zoo", "2"]))).toBe(0);
      expect(await backend.execute(toCommand(["PUBLISH", "hallo", "3"]))).toBe(1);
      expect(await backend.execute(toCommand(["PUBLISH", "hello!", "4"]))).toBe(0);
      await delivered();
      expect(
        events.map((event) =>
          event.kind === "pmessage" ? [text(event.pattern), text(event.channel), text(event.message)] : [],
        ),
      ).toEqual([
        ["news:[a-c]*", "news:art", "1"],
        ["h?llo", "hallo", "3"],
      ]);
      await news.close();
      await exact.close();
      expect(await backend.execute(toCommand(["PUBSUB", "NUMPAT"]))).toBe(0);
    });
  });

  it("a message a script publishes reaches subscribers once the script is done", async () => {
    await withEmulator(async (backend) => {
      const seen: string[] = [];
      const subscription = await backend.subscribe("subscribe", Buffer.from("events"), (event) => {
        if (event.kind === "message") seen.push(text(event.message));
      });
      const reply = await backend.execute(
        toCommand([
          "EVAL",
          "local n = redis.call('PUBLISH', 'events', ARGV[1]) redis.call('SET', 'after', 'yes') return n",
          "0",
          '{"id":"1-0"}',
        ]),
      );
      expect(reply).toBe(1);
      await delivered();
      expect(seen).toEqual(['{"id":"1-0"}']);
      await subscription.close();
    });
  });

  it("close() ends every subscription", async () => {
    const backend = openEmulator();
    const seen: SubscriptionEvent[] = [];
    await backend.subscribe("subscribe", Buffer.from("c"), (event) => seen.push(event));
    await backend.subscribe("psubscribe", Buffer.from("c*"), (event) => seen.push(event));
    expect(await backend.execute(toCommand(["PUBLISH", "c", "before"]))).toBe(2);
    await backend.close();
    expect(await backend.execute(toCommand(["PUBLISH", "c", "after"]))).toBe(0);
    await delivered();
    expect(seen.map((event) => text(event.message))).toEqual(["before", "before"]);
  });
});
