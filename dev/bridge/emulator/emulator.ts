/**
 * An in-process Redis 7.0 for the bridge's embedded default: one database, RESP2 replies,
 * Lua scripts through fengari. Everything runs synchronously on the caller's thread, so a
 * command, a transaction or a script is atomic: nothing else can run in between.
 */
import type { Bin } from "./bytes";
import type { ExecContext, ScriptHost } from "./command";
import { lookupCommand, lookupErrorText } from "./command-table";
import { CommandError, EXECABORT, NOSCRIPT } from "./errors";
import { Keyspace } from "./keyspace";
import { LuaScripts } from "./lua/scripts";
import { PubSub, type PubSubEvent, Subscriber } from "./pubsub";
import { ErrorReply, type Reply } from "./reply";

export interface EmulatorOptions {
  /** Milliseconds since the epoch: expiry, TTLs, stream ids and TIME read it (default Date.now). */
  readonly clock?: () => number;
  /** A script running longer is stopped with an error (default 5 s; Redis would wait for SCRIPT KILL). */
  readonly scriptTimeoutMs?: number;
  /** Where redis.log goes (default: nowhere). */
  readonly log?: (level: number, message: string) => void;
}

export interface EmulatorSubscription {
  /** Subscriptions of this connection, as Redis counts them in its reply. */
  readonly count: number;
  close(): void;
}

const DEFAULT_SCRIPT_TIMEOUT_MS = 5_000;

export class RedisEmulator {
  private readonly db = new Keyspace();
  private readonly pubsub = new PubSub();
  private readonly clock: () => number;
  private readonly lua: LuaScripts;
  private readonly scripts: ScriptHost;

  constructor(options: EmulatorOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.lua = new LuaScripts({
      clock: this.clock,
      timeoutMs: options.scriptTimeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS,
      log: options.log ?? (() => {}),
    });
    this.scripts = {
      eval: (ctx, source, keys, args, readOnly) => {
        const sha = this.lua.load(source);
        return this.runScript(ctx, sha, keys, args, readOnly);
      },
      evalsha: (ctx, sha, keys, args, readOnly) => {
        if (!this.lua.exists(sha)) throw new CommandError(NOSCRIPT);
        return this.runScript(ctx, sha.toLowerCase(), keys, args, readOnly);
      },
      load: (source) => this.lua.load(source),
      exists: (sha) => this.lua.exists(sha),
      flush: () => this.lua.flush(),
    };
  }

  /** Runs one command; an error reply comes back as ErrorReply, as Redis would send it. */
  execute(argv: readonly Bin[]): Reply {
    const lookup = lookupCommand(argv);
    if (lookup.kind !== "found") return new ErrorReply(lookupErrorText(lookup, argv));
    return this.run(this.context(), argv);
  }

  /**
   * MULTI … EXEC: a command that is unknown or has the wrong number of arguments discards
   * the whole transaction (EXECABORT); otherwise every command runs, each answering its own
   * reply or error.
   */
  transaction(commands: readonly (readonly Bin[])[]): Reply[] | ErrorReply {
    if (commands.some((argv) => lookupCommand(argv).kind !== "found")) return new ErrorReply(EXECABORT);
    const ctx = this.context();
    return commands.map((argv) => this.run(ctx, argv));
  }

  subscribe(
    mode: "subscribe" | "psubscribe",
    target: Bin,
    deliver: (event: PubSubEvent) => void,
  ): EmulatorSubscription {
    const subscriber = new Subscriber(deliver);
    const count =
      mode === "subscribe"
        ? this.pubsub.subscribe(subscriber, target)
        : this.pubsub.psubscribe(subscriber, target);
    return { count, close: () => this.pubsub.remove(subscriber) };
  }

  close(): void {
    this.lua.close();
    this.db.flush();
  }

  private context(): ExecContext {
    const now = this.clock();
    this.db.now = now;
    this.db.activeExpire();
    return { db: this.db, pubsub: this.pubsub, scripts: this.scripts, now, inScript: false };
  }

  private run(ctx: ExecContext, argv: readonly Bin[]): Reply {
    const lookup = lookupCommand(argv);
    if (lookup.kind !== "found") return new ErrorReply(lookupErrorText(lookup, argv));
    try {
      return lookup.spec.handler?.(ctx, argv) ?? null;
    } catch (error) {
      if (error instanceof CommandError) return new ErrorReply(error.message);
      throw error;
    }
  }

  private runScript(
    ctx: ExecContext,
    sha: string,
    keys: readonly Bin[],
    args: readonly Bin[],
    readOnly: boolean,
  ): Reply {
    const scriptCtx: ExecContext = { ...ctx, inScript: true };
    const noWrites = readOnly || this.lua.noWrites(sha);
    const reply = this.lua.run(sha, keys, args, (argv) => this.runFromScript(scriptCtx, argv, noWrites));
    if (reply instanceof ErrorReply) throw new CommandError(reply.message);
    return reply;
  }

  /** scriptCall: the checks a command from a script passes before it runs, with their texts. */
  private runFromScript(ctx: ExecContext, argv: readonly Bin[], readOnly: boolean): Reply {
    const lookup = lookupCommand(argv);
    if (lookup.kind === "unknown-command" || lookup.kind === "unknown-subcommand") {
      return new ErrorReply("ERR Unknown Redis command called from script");
    }
    if (lookup.kind === "wrong-arity")
      return new ErrorReply("ERR Wrong number of args calling Redis command from script");
    if (lookup.spec.flags.includes("noscript"))
      return new ErrorReply("ERR This Redis command is not allowed from script");
    if (readOnly && lookup.spec.flags.includes("write")) {
      return new ErrorReply("ERR Write commands are not allowed from read-only scripts.");
    }
    return this.run(ctx, argv);
  }
}
