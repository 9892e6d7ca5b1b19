/** What every command module builds on: a command's spec and what its handler is given. */
import type { Bin } from "./bytes";
import type { Keyspace } from "./keyspace";
import type { PubSub } from "./pubsub";
import type { Reply } from "./reply";

/** The flags of Redis's command table that change how the emulator treats a command. */
export type CommandFlag =
  /** Changes data: refused in EVAL_RO / EVALSHA_RO. */
  | "write"
  /** Refused inside scripts (CMD_NOSCRIPT). */
  | "noscript";

/** What a running command can reach. */
export interface ExecContext {
  readonly db: Keyspace;
  readonly pubsub: PubSub;
  /** EVAL and SCRIPT reach the script runner through this. */
  readonly scripts: ScriptHost;
  /** The command's time (ms); a script's commands all see the script's start. */
  readonly now: number;
  /** Inside EVAL: some commands refuse options there (XREAD BLOCK). */
  readonly inScript: boolean;
}

/** The scripting side of the emulator, as the EVAL / SCRIPT commands see it. */
export interface ScriptHost {
  eval(ctx: ExecContext, source: Bin, keys: readonly Bin[], args: readonly Bin[], readOnly: boolean): Reply;
  evalsha(ctx: ExecContext, sha: Bin, keys: readonly Bin[], args: readonly Bin[], readOnly: boolean): Reply;
  load(source: Bin): string;
  exists(sha: Bin): boolean;
  flush(): void;
}

/** `argv` holds the command name first, as Redis's c->argv does, so indices match the docs. */
export type Handler = (ctx: ExecContext, argv: readonly Bin[]) => Reply;

export interface CommandSpec {
  /** Lower case, `parent|sub` for subcommands (Redis's fullname, used in arity errors). */
  readonly name: string;
  /** Redis's arity: exact when positive, minimum when negative; the name counts. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly handler?: Handler;
  readonly subcommands?: readonly CommandSpec[];
}

export function command(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  handler: Handler,
): CommandSpec {
  return { name, arity, flags, handler };
}

/** A command with subcommands (SCRIPT, XINFO, PUBSUB); each subcommand has its own arity. */
export function container(name: string, subcommands: readonly CommandSpec[]): CommandSpec {
  return { name, arity: -2, flags: [], subcommands };
}
