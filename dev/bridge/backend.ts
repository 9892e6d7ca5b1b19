/**
 * The contract between the REST bridge and whatever Redis sits behind it: a real
 * server over ioredis, or the in-process emulator used as the embedded default.
 * The HTTP layer only ever talks to this interface, so both backends are held to
 * one protocol (and one contract test suite).
 */

/** A command as it goes to Redis: upper-case name and raw argument bytes. */
export interface RedisCommand {
  readonly name: string;
  readonly args: readonly Uint8Array[];
}

/** An error Redis itself replied inside a multi-bulk (EXEC results, script tables). */
export class NestedReplyError {
  constructor(readonly message: string) {}
}

/** A decoded RESP reply, bytes kept raw so the HTTP layer can encode them exactly. */
export type RedisReply = null | number | string | Uint8Array | NestedReplyError | RedisReply[];

/** One slot of a pipeline or transaction answer. */
export type ReplyOutcome =
  | { readonly ok: true; readonly value: RedisReply }
  | { readonly ok: false; readonly error: string };

/** Redis answered with an error reply: its text is passed to the client verbatim. */
export class RedisCommandError extends Error {
  override readonly name = "RedisCommandError";
}

/** Redis could not be reached or the connection broke: not the client's fault. */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

export type SubscriptionMode = "subscribe" | "psubscribe";

export type SubscriptionEvent =
  | { readonly kind: "message"; readonly channel: Uint8Array; readonly message: Uint8Array }
  | {
      readonly kind: "pmessage";
      readonly pattern: Uint8Array;
      readonly channel: Uint8Array;
      readonly message: Uint8Array;
    };

export interface Subscription {
  /** The subscription count Redis reported for this connection. */
  readonly count: number;
  /** Unsubscribes and releases the dedicated connection; safe to call twice. */
  close(): Promise<void>;
}

export interface RedisBackend {
  /** `redis` for a real server, `emulator` for the in-process stand-in. */
  readonly kind: "redis" | "emulator";
  /** Runs one command; throws RedisCommandError or RedisUnavailableError. */
  execute(command: RedisCommand): Promise<RedisReply>;
  /** Runs commands in order, not atomically; each slot carries its own error. */
  pipeline(commands: readonly RedisCommand[]): Promise<ReplyOutcome[]>;
  /**
   * Runs commands inside MULTI/EXEC with no interleaving from other requests.
   * A queue-time error discards the whole transaction (RedisCommandError EXECABORT).
   */
  transaction(commands: readonly RedisCommand[]): Promise<ReplyOutcome[]>;
  /** Opens a subscription on a connection of its own (a subscribed connection can run nothing else). */
  subscribe(
    mode: SubscriptionMode,
    target: Uint8Array,
    onEvent: (event: SubscriptionEvent) => void,
  ): Promise<Subscription>;
  close(): Promise<void>;
}
