/** The bridge process of bench/lib/bridge-process.ts: starts on {kind:"start"}, answers usage, stops. */
import { type RunningBridge, startBridgeServer } from "../../dev/bridge/server";

let bridge: RunningBridge | undefined;

process.on("message", (message: { kind: string; token?: string; redisUrl?: string; delayMs?: number }) => {
  const reply = (answer: unknown) => process.send?.(answer);
  switch (message.kind) {
    case "start":
      startBridgeServer({
        token: message.token ?? "",
        redisUrl: message.redisUrl ?? "",
        delayMs: message.delayMs ?? 0,
      }).then(
        (running) => {
          bridge = running;
          reply({ kind: "ready", url: running.url });
        },
        (error: unknown) => reply({ kind: "error", error: String(error) }),
      );
      break;
    case "usage":
      reply({ kind: "usage", usage: { ...(bridge?.usage ?? { requests: 0, commands: 0 }) } });
      break;
    case "stop":
      void (bridge?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
  }
});
// The orchestrator gone (killed), the bridge goes too.
process.on("disconnect", () => process.exit(0));
