/** Error replies, worded as Redis 7.0 words them (the contract suite compares the texts). */

/** An error reply from a command: its message is the reply text, code first (`ERR …`, `WRONGTYPE …`). */
export class CommandError extends Error {
  override readonly name = "CommandError";
}

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const SYNTAX = "ERR syntax error";
export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const NOT_A_FLOAT = "ERR value is not a valid float";
export const OUT_OF_RANGE = "ERR value is out of range, must be positive";
export const INCR_OVERFLOW = "ERR increment or decrement would overflow";
export const NO_SUCH_KEY = "ERR no such key";
export const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
export const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
export const INVALID_STREAM_ID = "ERR Invalid stream ID specified as stream command argument";

export function arityError(fullName: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${fullName}' command`);
}

export function expireTimeError(fullName: string): CommandError {
  return new CommandError(`ERR invalid expire time in '${fullName}' command`);
}

/** addReplySubcommandSyntaxError. */
export function subcommandSyntaxError(argv: readonly string[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try ${(argv[0] ?? "").toUpperCase()} HELP.`,
  );
}
