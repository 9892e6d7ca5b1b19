/** Finding a command by name (case-insensitive), subcommands included, with Redis's arity rule. */
import type { Bin } from "./bytes";
import type { CommandSpec } from "./command";
import { HASH_COMMANDS } from "./commands/hashes";
import { KEY_COMMANDS } from "./commands/keys";
import { LIST_COMMANDS } from "./commands/lists";
import { SCRIPTING_COMMANDS } from "./commands/scripting";
import { SERVER_COMMANDS } from "./commands/server";
import { SET_COMMANDS } from "./commands/sets";
import { SORTED_SET_COMMANDS } from "./commands/sorted-sets";
import { STREAM_COMMANDS } from "./commands/streams";
import { STRING_COMMANDS } from "./commands/strings";

export type Lookup =
  | { readonly kind: "found"; readonly spec: CommandSpec }
  | { readonly kind: "unknown-command" }
  | { readonly kind: "unknown-subcommand"; readonly parent: CommandSpec }
  | { readonly kind: "wrong-arity"; readonly spec: CommandSpec };

const ALL_COMMANDS: readonly CommandSpec[] = [
  ...STRING_COMMANDS,
  ...KEY_COMMANDS,
  ...HASH_COMMANDS,
  ...SET_COMMANDS,
  ...SORTED_SET_COMMANDS,
  ...LIST_COMMANDS,
  ...STREAM_COMMANDS,
  ...SCRIPTING_COMMANDS,
  ...SERVER_COMMANDS,
];

const TABLE = new Map(ALL_COMMANDS.map((spec) => [spec.name, spec]));

function arityFits(spec: CommandSpec, argc: number): boolean {
  return spec.arity > 0 ? argc === spec.arity : argc >= -spec.arity;
}

/** lookupCommand + commandCheckArity. */
export function lookupCommand(argv: readonly Bin[]): Lookup {
  const parent = TABLE.get((argv[0] ?? "").toLowerCase());
  if (!parent) return { kind: "unknown-command" };
  let spec = parent;
  if (parent.subcommands && argv.length >= 2) {
    const name = `${parent.name}|${(argv[1] as Bin).toLowerCase()}`;
    const sub = parent.subcommands.find((candidate) => candidate.name === name);
    if (!sub) return { kind: "unknown-subcommand", parent };
    spec = sub;
  }
  return arityFits(spec, argv.length) ? { kind: "found", spec } : { kind: "wrong-arity", spec };
}

/** C's %.128s of an argument: cut at a NUL byte and at 128 bytes. */
function quoted(value: Bin, room: number): Bin {
  const cut = value.indexOf("\0");
  return (cut < 0 ? value : value.slice(0, cut)).slice(0, Math.max(0, room));
}

/** processCommand's reply when lookup fails (bytes). */
export function lookupErrorText(lookup: Exclude<Lookup, { kind: "found" }>, argv: readonly Bin[]): Bin {
  let text: Bin;
  if (lookup.kind === "wrong-arity") {
    text = `ERR wrong number of arguments for '${lookup.spec.name}' command`;
  } else if (lookup.kind === "unknown-subcommand") {
    text = `ERR unknown subcommand '${quoted(argv[1] as Bin, 128)}'. Try ${lookup.parent.name.toUpperCase()} HELP.`;
  } else {
    let args = "";
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${quoted(argv[i] as Bin, 128 - args.length)}' `;
    }
    text = `ERR unknown command '${quoted(argv[0] as Bin, 128)}', with args beginning with: ${args}`;
  }
  return text;
}
