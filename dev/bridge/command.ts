/**
 * Turns the JSON the @upstash/redis client sends into Redis commands, and refuses
 * the commands a shared, stateless HTTP front must not run and the server administration
 * Upstash does not offer. This is the one list of refusals; it checks the commands a client
 * sends, not what a script (EVAL) calls inside Redis.
 */
import type { RedisCommand } from "./backend";

/** A request body the bridge cannot run: answered 400 with this message, nothing sent to Redis. */
export class InvalidCommandError extends Error {
  override readonly name = "InvalidCommandError";
}

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
  ["HELLO", "the bridge speaks RESP2 to Redis"],
  ["AUTH", "the bridge authenticates with its own token"],
  ["READONLY", "cluster connection state"],
  ["READWRITE", "cluster connection state"],
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

/**
 * Server administration, which Upstash (a managed service) does not offer a REST client:
 * refused with Upstash's wording (NOT_AVAILABLE_PREFIX). FLUSHALL and FLUSHDB are here on
 * purpose although Upstash runs them: this bridge is shared by every local process and test,
 * and a flush behind their backs is never what a REST client of it should do.
 */
const ADMIN_COMMANDS = new Set([
  "FLUSHALL",
  "FLUSHDB",
  "CONFIG",
  "SHUTDOWN",
  "REPLICAOF",
  "SLAVEOF",
  "REPLCONF",
  "SYNC",
  "PSYNC",
  "FAILOVER",
  "MODULE",
  "ACL",
  "DEBUG",
  "SAVE",
  "BGSAVE",
  "BGREWRITEAOF",
  "LASTSAVE",
  "CLUSTER",
  "MIGRATE",
  "SWAPDB",
]);

/** Subcommands that administer the server though their command has harmless ones (CLIENT LIST, SLOWLOG GET). */
const ADMIN_SUBCOMMANDS = new Map<string, ReadonlySet<string>>([
  ["CLIENT", new Set(["KILL", "PAUSE", "UNPAUSE"])],
  ["SLOWLOG", new Set(["RESET"])],
  ["LATENCY", new Set(["RESET"])],
]);

/** Upstash's answer to a command its REST API does not offer: `ERR Command is not available: 'flushall'`. */
const NOT_AVAILABLE_PREFIX = "ERR Command is not available";

/** A JSON argument as Redis will see it. */
function argumentText(value: string | number | boolean): string {
  return typeof value === "string" ? value : String(value);
}

/** Why `command` (checked, name upper-cased as `name`) is refused, as the error text; undefined to run it. */
function refusal(command: CheckedCommand, name: string): string | undefined {
  const rawName = command[0];
  const subcommand = command[1] === undefined ? undefined : argumentText(command[1]);
  if (ADMIN_COMMANDS.has(name)) return `${NOT_AVAILABLE_PREFIX}: '${rawName.toLowerCase()}'`;
  if (subcommand !== undefined && ADMIN_SUBCOMMANDS.get(name)?.has(subcommand.toUpperCase())) {
    return `${NOT_AVAILABLE_PREFIX}: '${rawName.toLowerCase()} ${subcommand.toLowerCase()}'`;
  }
  const reason = bridgeRefusalReason(command, name, subcommand);
  return reason && `ERR command '${rawName}' is not allowed through the REST bridge: ${reason}`;
}

function bridgeRefusalReason(
  command: CheckedCommand,
  name: string,
  subcommand: string | undefined,
): string | undefined {
  const connectionState = CONNECTION_STATE_COMMANDS.get(name);
  if (connectionState) return connectionState;
  if (BLOCKING_COMMANDS.has(name)) return "blocking commands would stall the shared connection";
  if (
    name === "CLIENT" &&
    subcommand !== undefined &&
    CONNECTION_STATE_CLIENT_SUBCOMMANDS.has(subcommand.toUpperCase())
  ) {
    return "it changes the shared connection";
  }
  if (
    (name === "XREAD" || name === "XREADGROUP") &&
    command.some((arg, index) => index > 0 && argumentText(arg).toUpperCase() === "BLOCK")
  ) {
    return "blocking reads would stall the shared connection";
  }
  return undefined;
}

function describeArgument(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** The client sends numbers and booleans as JSON values; Redis gets their text. */
type JsonArgument = string | number | boolean;

/** A command array whose name and arguments passed checkCommand: `["set","k","v"]`. */
export type CheckedCommand = readonly [name: string, ...args: JsonArgument[]];

/** Messages name the failing item of a pipeline; the prefix is only built for the one that fails. */
function prefix(item: number | undefined): string {
  return item === undefined ? "" : `command ${item}: `;
}

function checkArgument(value: unknown, position: number, item: number | undefined): void {
  if (typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new InvalidCommandError(`${prefix(item)}argument ${position} is not a finite number`);
    return;
  }
  throw new InvalidCommandError(
    `${prefix(item)}argument ${position} must be a string, number or boolean, got ${describeArgument(value)}`,
  );
}

/**
 * Checks one command array (`["set","k","v"]`) without converting it: a body of many
 * commands is checked whole before anything runs, then converted a slice at a time
 * (toRedisCommand). `item` is its index in a pipeline, for the messages.
 */
export function checkCommand(body: unknown, item?: number): CheckedCommand {
  if (!Array.isArray(body)) {
    throw new InvalidCommandError(
      `${prefix(item)}a command must be a JSON array like ["GET","key"], got ${describeArgument(body)}`,
    );
  }
  if (body.length === 0) throw new InvalidCommandError(`${prefix(item)}the command array is empty`);
  const rawName: unknown = body[0];
  if (typeof rawName !== "string" || rawName.length === 0) {
    throw new InvalidCommandError(`${prefix(item)}the command name (argument 0) must be a non-empty string`);
  }
  for (let index = 1; index < body.length; index++) checkArgument(body[index], index, item);
  const checked = body as unknown as CheckedCommand;
  const refused = refusal(checked, rawName.toUpperCase());
  if (refused) throw new InvalidCommandError(refused);
  return checked;
}

/**
 * A checked command as it goes to Redis. Buffer.from takes small strings from Node's shared
 * pool, where TextEncoder allocates a buffer per argument: a 10 MiB pipeline of short
 * commands holds hundreds of thousands of them at once.
 */
export function toRedisCommand(checked: CheckedCommand): RedisCommand {
  const args = new Array<Uint8Array>(checked.length - 1);
  for (let index = 1; index < checked.length; index++) {
    args[index - 1] = Buffer.from(argumentText(checked[index] as JsonArgument));
  }
  // Upper case on purpose: ioredis transforms the replies of some lower-case names (hgetall → object).
  return { name: checked[0].toUpperCase(), args };
}

/** Parses one command array (`["set","k","v"]`). */
export function parseCommand(body: unknown): RedisCommand {
  return toRedisCommand(checkCommand(body));
}

/** Checks a /pipeline or /multi-exec body: a non-empty array of command arrays. */
export function checkCommandList(body: unknown): CheckedCommand[] {
  if (!Array.isArray(body)) {
    throw new InvalidCommandError(`the body must be a JSON array of commands, got ${describeArgument(body)}`);
  }
  if (body.length === 0) throw new InvalidCommandError("the command list is empty");
  for (let index = 0; index < body.length; index++) checkCommand(body[index], index);
  return body as CheckedCommand[];
}
