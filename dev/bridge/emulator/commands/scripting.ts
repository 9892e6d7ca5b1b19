/** EVAL, EVALSHA, their _RO forms and SCRIPT. */
import { int64Arg, isOption } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, container, type ExecContext } from "../command";
import { CommandError, NOSCRIPT } from "../errors";
import { OK, type Reply } from "../reply";

function keysAndArgs(argv: readonly Bin[]): { keys: Bin[]; args: Bin[] } {
  const count = int64Arg(argv[2] as Bin);
  if (count > BigInt(argv.length - 3))
    throw new CommandError("ERR Number of keys can't be greater than number of args");
  if (count < 0n) throw new CommandError("ERR Number of keys can't be negative");
  const split = 3 + Number(count);
  return { keys: argv.slice(3, split), args: argv.slice(split) };
}

function evalCommand(readOnly: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const { keys, args } = keysAndArgs(argv);
    return ctx.scripts.eval(ctx, argv[1] as Bin, keys, args, readOnly);
  };
}

function evalshaCommand(readOnly: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const sha = argv[1] as Bin;
    // evalShaCommand: a digest of the wrong length cannot match, so NOSCRIPT before anything else.
    if (sha.length !== 40) throw new CommandError(NOSCRIPT);
    const { keys, args } = keysAndArgs(argv);
    return ctx.scripts.evalsha(ctx, sha, keys, args, readOnly);
  };
}

export const SCRIPTING_COMMANDS: readonly CommandSpec[] = [
  command("eval", -3, ["noscript"], evalCommand(false)),
  command("evalsha", -3, ["noscript"], evalshaCommand(false)),
  command("eval_ro", -3, ["noscript"], evalCommand(true)),
  command("evalsha_ro", -3, ["noscript"], evalshaCommand(true)),
  container("script", [
    command("script|load", 3, ["noscript"], (ctx, argv) => ctx.scripts.load(argv[2] as Bin)),
    command("script|exists", -3, ["noscript"], (ctx, argv) =>
      argv.slice(2).map((sha) => (ctx.scripts.exists(sha) ? 1 : 0)),
    ),
    command("script|flush", -2, ["noscript"], (ctx, argv) => {
      if (
        argv.length > 3 ||
        (argv.length === 3 && !isOption(argv[2], "SYNC") && !isOption(argv[2], "ASYNC"))
      ) {
        throw new CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
      }
      ctx.scripts.flush();
      return OK;
    }),
    command("script|kill", 2, ["noscript"], () => {
      throw new CommandError("NOTBUSY No scripts in execution right now.");
    }),
  ]),
];
