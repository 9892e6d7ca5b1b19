/**
 * Turns the JSON the @upstash/redis client sends into Redis commands, and refuses
 * the commands a shared, stateless HTTP front must not run.
 */
import type { RedisCommand } from "./backend";

/** A request body the bridge cannot run: answered 400 with this message, nothing sent to Redis. */
export class InvalidCommandError extends Error {
  override readonly name = "InvalidCommandError";
}

const encoder = new TextEncoder();

/**
 * Commands that change or depend on the state of a connection. The bridge shares
 * connections between requests, so these would leak into other callers' commands.
 * Subscriptions have their own SSE endpoints; transactions use /multi-exec.
 */
const CONNECTION_STATE_COMMANDS = new Map<string, string>([
  ["SUBSCRIBE", "use POST /subscribe/:channel"],
  ["PSUBSCRIBE", "use POST /psubscribe/:pattern"],
  ["SSUBSCRIBE", "sharded pub/sub is not supported"],
  ["UNSUBSCRIBE", "close the /subscribe stream instead"],
  ["PUNSUBSCRIBE", "close the /psubscribe stream instead"],
  ["SUNSUBSCRIBE", "sharded pub/sub is not supported"],
  ["MULTI", "use POST /multi-exec"],
  ["EXEC", "use POST /multi-exec"],
  ["DISCARD", "use POST /multi-exec"],
  ["WATCH", "optimistic locking needs a connection of your own; use a Lua script"],
  ["UNWATCH", "optimistic locking needs a connection of your own; use a Lua script"],
  ["MONITOR", "it takes over the connection"],
  ["QUIT", "the bridge owns its connections"],
  ["RESET", "the bridge owns its connections"],
  ["SELECT", "the bridge serves one database"],
  ["SWAPDB", "the bridge serves one database"],
  ["HELLO", "the bridge speaks RESP2 to Redis"],
  ["AUTH", "the bridge authenticates with its own token"],
  ["READONLY", "cluster connection state"],
  ["READWRITE", "cluster connection state"],
  ["SYNC", "replication takes over the connection"],
  ["PSYNC", "replication takes over the connection"],
]);

/** CLIENT subcommands that change the shared connection. */
const CONNECTION_STATE_CLIENT_SUBCOMMANDS = new Set([
  "REPLY",
  "TRACKING",
  "SETNAME",
  "SETINFO",
  "NO-EVICT",
  "NO-TOUCH",
  "CACHING",
]);

/** Blocking commands would stall every request that shares the connection. */
const BLOCKING_COMMANDS = new Set([
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
]);

function describeArgument(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function toBytes(value: unknown, position: number, where: string): Uint8Array {
  // The client sends numbers and booleans as JSON values; Redis wants their text.
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new InvalidCommandError(`${where}argument ${position} is not a finite number`);
    return encoder.encode(String(value));
  }
  if (typeof value === "boolean") return encoder.encode(value ? "true" : "false");
  throw new InvalidCommandError(
    `${where}argument ${position} must be a string, number or boolean, got ${describeArgument(value)}`,
  );
}

function refusalReason(name: string, args: readonly Uint8Array[]): string | undefined {
  const connectionState = CONNECTION_STATE_COMMANDS.get(name);
  if (connectionState) return connectionState;
  if (BLOCKING_COMMANDS.has(name)) return "blocking commands would stall the shared connection";
  const decoder = new TextDecoder();
  if (
    name === "CLIENT" &&
    args[0] &&
    CONNECTION_STATE_CLIENT_SUBCOMMANDS.has(decoder.decode(args[0]).toUpperCase())
  ) {
    return "it changes the shared connection";
  }
  if (
    (name === "XREAD" || name === "XREADGROUP") &&
    args.some((arg) => decoder.decode(arg).toUpperCase() === "BLOCK")
  ) {
    return "blocking reads would stall the shared connection";
  }
  return undefined;
}

/** Parses one command array (`["set","k","v"]`); `where` prefixes messages for pipeline items. */
export function parseCommand(body: unknown, where = ""): RedisCommand {
  if (!Array.isArray(body)) {
    throw new InvalidCommandError(
      `${where}a command must be a JSON array like ["GET","key"], got ${describeArgument(body)}`,
    );
  }
  if (body.length === 0) throw new InvalidCommandError(`${where}the command array is empty`);
  const [rawName, ...rawArgs] = body;
  if (typeof rawName !== "string" || rawName.length === 0) {
    throw new InvalidCommandError(`${where}the command name (argument 0) must be a non-empty string`);
  }
  // Upper case on purpose: ioredis transforms the replies of some lower-case names (hgetall → object).
  const name = rawName.toUpperCase();
  const args = rawArgs.map((value, index) => toBytes(value, index + 1, where));
  const refused = refusalReason(name, args);
  if (refused)
    throw new InvalidCommandError(
      `ERR command '${rawName}' is not allowed through the REST bridge: ${refused}`,
    );
  return { name, args };
}

/** Parses a /pipeline or /multi-exec body: a non-empty array of command arrays. */
export function parseCommandList(body: unknown): RedisCommand[] {
  if (!Array.isArray(body)) {
    throw new InvalidCommandError(`the body must be a JSON array of commands, got ${describeArgument(body)}`);
  }
  if (body.length === 0) throw new InvalidCommandError("the command list is empty");
  return body.map((item, index) => parseCommand(item, `command ${index}: `));
}
