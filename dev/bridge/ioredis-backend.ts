/**
 * The bridge's backend over a real Redis server, through ioredis.
 *
 * - One shared connection carries single commands and pipelines (ioredis writes
 *   them in order on one socket, so a pipeline keeps its order).
 * - Transactions run on a small pool of dedicated connections, one transaction at
 *   a time each, so no other request's command can land between MULTI and EXEC.
 * - Each subscription gets a connection of its own, closed with the SSE stream.
 */
import { type Redis, ReplyError } from "ioredis";
import type { Timers } from "../../core/time/clock";
import {
  NestedReplyError,
  type RedisBackend,
  type RedisCommand,
  RedisCommandError,
  type RedisReply,
  RedisUnavailableError,
  type ReplyOutcome,
  type Subscription,
  type SubscriptionEvent,
  type SubscriptionMode,
} from "./backend";
import { type BridgeConnection, openBridgeConnection } from "./ioredis-connection";

export interface IoredisBackendOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Dedicated connections for /multi-exec. */
  readonly transactionConnections?: number;
  readonly logger?: Pick<Console, "warn">;
  /** What reconnect attempts wait on (default: real timers). */
  readonly timers?: Timers;
}

type Argument = Buffer;

/** Commands of a transaction written to Redis per round trip. */
const TRANSACTION_SLICE = 1_000;

function toArgs(command: RedisCommand): Argument[] {
  // The bridge's own parser hands over Buffers already; a view per argument is only for other callers.
  return command.args.map((arg) =>
    Buffer.isBuffer(arg) ? arg : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength),
  );
}

function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

function toBackendError(error: unknown): Error {
  if (isReplyError(error)) return new RedisCommandError(error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new RedisUnavailableError(`Redis is unavailable: ${message}`, { cause: error });
}

function toReply(value: unknown): RedisReply {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toReply);
  if (value instanceof Error) return new NestedReplyError(value.message);
  return String(value);
}

function toOutcome(result: PromiseSettledResult<unknown>): ReplyOutcome {
  if (result.status === "fulfilled") return { ok: true, value: toReply(result.value) };
  const error = toBackendError(result.reason);
  // A broken connection fails the whole request (503), not one pipeline slot.
  if (error instanceof RedisUnavailableError) throw error;
  return { ok: false, error: error.message };
}

/**
 * Runs `issue` with the connection's socket corked: ioredis writes every command on its own,
 * one system call each, which for a long pipeline costs more than Redis takes to run it.
 */
function corked<T>(connection: Redis, issue: () => T): T {
  const socket = connection.stream;
  socket.cork();
  try {
    return issue();
  } finally {
    socket.uncork();
  }
}

/** A fixed set of connections, each lent to one transaction at a time. */
class ConnectionPool {
  private readonly idle: Redis[];
  private readonly waiting: Array<(connection: Redis) => void> = [];

  constructor(readonly connections: readonly Redis[]) {
    this.idle = [...connections];
  }

  async use<T>(work: (connection: Redis) => Promise<T>): Promise<T> {
    const connection = this.idle.pop() ?? (await new Promise<Redis>((resolve) => this.waiting.push(resolve)));
    try {
      return await work(connection);
    } finally {
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }
}

export async function createIoredisBackend(options: IoredisBackendOptions): Promise<RedisBackend> {
  const logger = options.logger ?? console;
  const open = (connectionName: string) =>
    openBridgeConnection({
      url: options.url,
      connectionName,
      logger,
      ...(options.timers ? { timers: options.timers } : {}),
    });
  const sharedConnection = open("upstash-bridge");
  const transactionConnections = Array.from({ length: options.transactionConnections ?? 4 }, (_, index) =>
    open(`upstash-bridge-tx-${index}`),
  );
  const owned = [sharedConnection, ...transactionConnections];
  const shared = sharedConnection.redis;
  const pool = new ConnectionPool(transactionConnections.map((connection) => connection.redis));
  const subscribers = new Set<BridgeConnection>();
  try {
    await Promise.all(owned.map((connection) => connection.connect()));
  } catch (error) {
    await Promise.all(owned.map((connection) => connection.close()));
    throw new RedisUnavailableError(`cannot connect to Redis at ${options.url}`, { cause: error });
  }

  return {
    kind: "redis",

    async execute(command) {
      try {
        return toReply(await shared.callBuffer(command.name, ...toArgs(command)));
      } catch (error) {
        throw toBackendError(error);
      }
    },

    async pipeline(commands) {
      const results = await Promise.allSettled(
        corked(shared, () => commands.map((command) => shared.callBuffer(command.name, ...toArgs(command)))),
      );
      return results.map(toOutcome);
    },

    transaction(commands) {
      return pool.use(async (connection) => {
        // MULTI and the first slice go in one write. Each later slice waits for the QUEUED replies
        // of the one before, so a long transaction neither holds the thread nor ioredis's queue for
        // all its commands at once; the connection is this transaction's alone meanwhile.
        for (let start = 0; start < commands.length; start += TRANSACTION_SLICE) {
          const slice = commands.slice(start, start + TRANSACTION_SLICE);
          const issued = corked(connection, () => [
            ...(start === 0 ? [connection.callBuffer("MULTI")] : []),
            ...slice.map((command) => connection.callBuffer(command.name, ...toArgs(command))),
          ]);
          // A queue-time error reply makes Redis discard the transaction at EXEC (EXECABORT);
          // anything else means the connection broke.
          for (const result of await Promise.allSettled(issued)) {
            if (result.status === "rejected" && !isReplyError(result.reason)) {
              connection.callBuffer("DISCARD").catch(() => {});
              throw toBackendError(result.reason);
            }
          }
        }
        let replies: unknown;
        try {
          replies = await connection.callBuffer("EXEC");
        } catch (error) {
          throw toBackendError(error);
        }
        if (!Array.isArray(replies)) throw new RedisCommandError("EXECABORT Transaction discarded");
        return replies.map(
          (reply: unknown): ReplyOutcome =>
            reply instanceof Error
              ? { ok: false, error: reply.message }
              : { ok: true, value: toReply(reply) },
        );
      });
    },

    async subscribe(mode: SubscriptionMode, target: Uint8Array, onEvent: (event: SubscriptionEvent) => void) {
      const subscriber = open(`upstash-bridge-${mode}`);
      const connection = subscriber.redis;
      subscribers.add(subscriber);
      const targetBuffer = Buffer.from(target);
      connection.on("messageBuffer", (channel: Buffer, message: Buffer) => {
        onEvent({ kind: "message", channel, message });
      });
      // ioredis passes the pattern as a string even on the Buffer event (DataHandler: reply[1].toString()).
      connection.on("pmessageBuffer", (pattern: Buffer | string, channel: Buffer, message: Buffer) => {
        onEvent({ kind: "pmessage", pattern: Buffer.from(pattern), channel, message });
      });
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        subscribers.delete(subscriber);
        await subscriber.close();
      };
      try {
        await subscriber.connect();
        const count =
          mode === "subscribe"
            ? await connection.subscribe(targetBuffer)
            : await connection.psubscribe(targetBuffer.toString("utf8"));
        return { count: Number(count), close } satisfies Subscription;
      } catch (error) {
        await close();
        throw toBackendError(error);
      }
    },

    async close() {
      const closing = [...subscribers].map((subscriber) => subscriber.close());
      subscribers.clear();
      // QUIT lets replies already on their way arrive; while Redis is unreachable it is refused
      // and each connection is simply dropped. Either way none of them reconnects afterwards.
      await Promise.allSettled([
        ...closing,
        ...owned.map((connection) => connection.close({ graceful: true })),
      ]);
    },
  };
}
