/** Connection-free server commands: PING, ECHO, TIME, PUBLISH, PUBSUB. */
import type { Bin } from "../bytes";
import { type CommandSpec, command, container } from "../command";
import { arityError, CommandError, subcommandSyntaxError } from "../errors";
import { StatusReply } from "../reply";

/** What a script may not run (CMD_NOSCRIPT) and a shared, connection-free store cannot: they only answer errors. */
function refused(name: string, arity: number, reason: string): CommandSpec {
  return command(name, arity, ["noscript"], () => {
    throw new CommandError(`ERR ${name.toUpperCase()} is not supported by the emulator: ${reason}`);
  });
}

export const SERVER_COMMANDS: readonly CommandSpec[] = [
  command("ping", -1, [], (_ctx, argv) => {
    if (argv.length > 2) throw arityError("ping");
    return argv[1] ?? new StatusReply("PONG");
  }),
  command("echo", 2, [], (_ctx, argv) => argv[1] as Bin),
  command("time", 1, [], (ctx) => {
    const micros = BigInt(Math.floor(ctx.now * 1000));
    return [String(micros / 1_000_000n), String(micros % 1_000_000n)];
  }),
  // PUBLISH may replicate: read-only scripts refuse it like a write.
  command("publish", 3, ["write"], (ctx, [, channel = "", message = ""]) =>
    ctx.pubsub.publish(channel, message),
  ),
  container("pubsub", [
    command("pubsub|channels", -2, [], (ctx, argv) => {
      if (argv.length > 3) throw subcommandSyntaxError(argv);
      return ctx.pubsub.activeChannels(argv[2]);
    }),
    command("pubsub|numsub", -2, [], (ctx, argv) =>
      argv.slice(2).flatMap((channel) => [channel, ctx.pubsub.numsub(channel)]),
    ),
    command("pubsub|numpat", 2, [], (ctx) => ctx.pubsub.numpat()),
    command("pubsub|shardchannels", -2, [], () => []),
    command("pubsub|shardnumsub", -2, [], (_ctx, argv) => argv.slice(2).flatMap((channel) => [channel, 0])),
  ]),
  ...["subscribe", "psubscribe", "ssubscribe"].map((name) =>
    refused(name, -2, "subscriptions go through the backend's subscribe()"),
  ),
  ...["unsubscribe", "punsubscribe", "sunsubscribe"].map((name) =>
    refused(name, -1, "subscriptions go through the backend's subscribe()"),
  ),
  refused("multi", 1, "transactions go through the backend's transaction()"),
  refused("exec", 1, "transactions go through the backend's transaction()"),
  refused("discard", 1, "transactions go through the backend's transaction()"),
  refused("watch", -2, "transactions go through the backend's transaction()"),
  refused("unwatch", 1, "transactions go through the backend's transaction()"),
  ...["blpop", "brpop", "bzpopmin", "bzpopmax"].map((name) => refused(name, -3, "it never blocks")),
  refused("brpoplpush", 4, "it never blocks"),
  refused("blmove", 6, "it never blocks"),
  refused("blmpop", -5, "it never blocks"),
  refused("bzmpop", -5, "it never blocks"),
  refused("wait", 3, "there are no replicas"),
];
