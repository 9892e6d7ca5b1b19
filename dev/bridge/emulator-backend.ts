/**
 * The bridge's embedded default when no Redis server is given: the in-process Redis 7.0
 * emulator of emulator/ (emulator/emulator.ts), behind the same RedisBackend interface as
 * a real server, so the contract suite holds both to one protocol.
 */
import {
  NestedReplyError,
  type RedisBackend,
  type RedisCommand,
  RedisCommandError,
  type RedisReply,
  type ReplyOutcome,
  type Subscription,
} from "./backend";
import { binText, fromBin, toBin } from "./emulator/bytes";
import { type EmulatorOptions, RedisEmulator } from "./emulator/emulator";
import { ErrorReply, type Reply, StatusReply } from "./emulator/reply";

export type EmulatorBackendOptions = EmulatorOptions;

function argvOf(command: RedisCommand): string[] {
  return [command.name, ...command.args.map(toBin)];
}

/** Emulator replies → the bridge's: bulk strings as bytes, status replies as text. */
function toReply(reply: Reply): RedisReply {
  if (reply === null || typeof reply === "number") return reply;
  if (typeof reply === "string") return fromBin(reply);
  if (reply instanceof StatusReply) return reply.text;
  if (reply instanceof ErrorReply) return new NestedReplyError(binText(reply.message));
  return reply.map(toReply);
}

/** Error texts are read as UTF-8, as ioredis reads a real server's. */
function toOutcome(reply: Reply): ReplyOutcome {
  return reply instanceof ErrorReply
    ? { ok: false, error: binText(reply.message) }
    : { ok: true, value: toReply(reply) };
}

export function createEmulatorBackend(options: EmulatorBackendOptions = {}): RedisBackend {
  const emulator = new RedisEmulator(options);
  const subscriptions = new Set<() => void>();
  return {
    kind: "emulator",

    async execute(command) {
      const reply = emulator.execute(argvOf(command));
      if (reply instanceof ErrorReply) throw new RedisCommandError(binText(reply.message));
      return toReply(reply);
    },

    async pipeline(commands) {
      return commands.map((command) => toOutcome(emulator.execute(argvOf(command))));
    },

    async transaction(commands) {
      const replies = emulator.transaction(commands.map(argvOf));
      if (replies instanceof ErrorReply) throw new RedisCommandError(binText(replies.message));
      return replies.map(toOutcome);
    },

    async subscribe(mode, target, onEvent) {
      const subscription = emulator.subscribe(mode, toBin(target), onEvent);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        subscriptions.delete(close);
        subscription.close();
      };
      subscriptions.add(close);
      return { count: subscription.count, close: async () => close() } satisfies Subscription;
    },

    async close() {
      for (const close of [...subscriptions]) close();
      emulator.close();
    },
  };
}
