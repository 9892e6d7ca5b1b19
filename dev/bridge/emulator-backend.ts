/**
 * The bridge's embedded default when no Redis server is given: ioredis-mock, an
 * in-process emulator. It covers the common commands (strings, hashes, sets,
 * sorted sets, lists, streams, EVAL, pub/sub) but not every reply text or command
 * of real Redis; the contract suite records which parts it is held to.
 */
import RedisMock from "ioredis-mock";
import {
  NestedReplyError,
  type RedisBackend,
  type RedisCommand,
  RedisCommandError,
  type RedisReply,
  type ReplyOutcome,
  type SubscriptionEvent,
  type SubscriptionMode,
} from "./backend";

type EmulatorMethod = (...args: string[]) => Promise<unknown>;
type EmulatorClient = InstanceType<typeof RedisMock>;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function toReply(value: unknown): RedisReply {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toReply);
  if (value instanceof Error) return new NestedReplyError(value.message);
  // ioredis-mock answers HGETALL-style commands with an object; Redis answers a flat array.
  if (typeof value === "object")
    return Object.entries(value).flatMap(([field, item]) => [field, toReply(item)]);
  return String(value);
}

function methodFor(client: EmulatorClient, command: RedisCommand): EmulatorMethod {
  const method = (client as unknown as Record<string, unknown>)[command.name.toLowerCase()];
  if (typeof method !== "function") {
    throw new RedisCommandError(
      `ERR unknown command '${command.name.toLowerCase()}', with args beginning with: `,
    );
  }
  return method.bind(client) as EmulatorMethod;
}

/**
 * ioredis-mock only recognises upper-case option words, while the Upstash client sends
 * them lower case (`["set","k","v","ex",100]`). For the commands below, arguments from
 * the given index on that are option words get upper-cased; keys and values before it
 * are never touched.
 */
const OPTIONS_FROM_INDEX: Record<string, number> = {
  SET: 2,
  EXPIRE: 2,
  PEXPIRE: 2,
  ZRANGE: 3,
  SCAN: 1,
  HSCAN: 2,
  SSCAN: 2,
  ZSCAN: 2,
};
const OPTION_WORDS = new Set([
  "EX",
  "PX",
  "EXAT",
  "PXAT",
  "NX",
  "XX",
  "GT",
  "LT",
  "KEEPTTL",
  "GET",
  "WITHSCORES",
  "BYSCORE",
  "BYLEX",
  "REV",
  "LIMIT",
  "MATCH",
  "COUNT",
  "TYPE",
]);

function textArgs(command: RedisCommand): string[] {
  const optionsFrom = OPTIONS_FROM_INDEX[command.name] ?? Number.POSITIVE_INFINITY;
  return command.args.map((arg, index) => {
    const text = decoder.decode(arg);
    return index >= optionsFrom && OPTION_WORDS.has(text.toUpperCase()) ? text.toUpperCase() : text;
  });
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith("ERR") || /^[A-Z]+ /.test(message) ? message : `ERR ${message}`;
}

async function run(client: EmulatorClient, command: RedisCommand): Promise<RedisReply> {
  const method = methodFor(client, command);
  try {
    return toReply(await method(...textArgs(command)));
  } catch (error) {
    throw new RedisCommandError(errorText(error));
  }
}

export function createEmulatorBackend(): RedisBackend {
  const client = new RedisMock();
  const subscribers = new Set<EmulatorClient>();
  return {
    kind: "emulator",

    execute: (command) => run(client, command),

    async pipeline(commands) {
      const outcomes: ReplyOutcome[] = [];
      for (const command of commands) {
        try {
          outcomes.push({ ok: true, value: await run(client, command) });
        } catch (error) {
          outcomes.push({ ok: false, error: errorText(error) });
        }
      }
      return outcomes;
    },

    async transaction(commands) {
      // Queue-time check as Redis does it: an unknown command discards the whole transaction.
      for (const command of commands) {
        if (
          typeof (client as unknown as Record<string, unknown>)[command.name.toLowerCase()] !== "function"
        ) {
          throw new RedisCommandError("EXECABORT Transaction discarded because of previous errors.");
        }
      }
      // Not client.multi(): its exec() rejects as a whole when one command fails at run time.
      // Every command starts before any is awaited, and ioredis-mock does each one's work
      // synchronously, so nothing from another request lands in between.
      const results = await Promise.allSettled(commands.map((command) => run(client, command)));
      return results.map(
        (result): ReplyOutcome =>
          result.status === "fulfilled"
            ? { ok: true, value: result.value }
            : { ok: false, error: errorText(result.reason) },
      );
    },

    async subscribe(mode: SubscriptionMode, target: Uint8Array, onEvent: (event: SubscriptionEvent) => void) {
      const subscriber = client.duplicate();
      subscribers.add(subscriber);
      subscriber.on("message", (channel: string, message: string) => {
        onEvent({ kind: "message", channel: encoder.encode(channel), message: encoder.encode(message) });
      });
      subscriber.on("pmessage", (pattern: string, channel: string, message: string) => {
        onEvent({
          kind: "pmessage",
          pattern: encoder.encode(pattern),
          channel: encoder.encode(channel),
          message: encoder.encode(message),
        });
      });
      const name = decoder.decode(target);
      const count =
        mode === "subscribe" ? await subscriber.subscribe(name) : await subscriber.psubscribe(name);
      let closed = false;
      return {
        count: Number(count),
        async close() {
          if (closed) return;
          closed = true;
          subscribers.delete(subscriber);
          // disconnect() alone leaves an ioredis-mock subscriber registered: it kept receiving messages.
          await (mode === "subscribe" ? subscriber.unsubscribe(name) : subscriber.punsubscribe(name));
          subscriber.disconnect();
        },
      };
    },

    async close() {
      for (const subscriber of subscribers) subscriber.disconnect();
      subscribers.clear();
      client.disconnect();
    },
  };
}
