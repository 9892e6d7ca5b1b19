/**
 * The REST bridge in a process of its own, as Upstash is a service of its own: its CPU is
 * not taken from the event app or the origin it would otherwise share an event loop with.
 * Its usage counters are read over IPC (bench/lib/bridge-child.ts).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BridgeUsage } from "../../dev/bridge/app";
import { checkDelayMs } from "../../dev/bridge/delay";

export interface BridgeProcess {
  readonly url: string;
  /** What each request waits before it is handled: one round trip to a Redis a hop away (dev/bridge/delay.ts). */
  readonly delayMs: number;
  /** Requests and commands the bridge served since it started. */
  usage(): Promise<BridgeUsage>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./bridge-child.ts", import.meta.url));

type ChildMessage =
  | { kind: "ready"; url: string }
  | { kind: "usage"; usage: BridgeUsage }
  | { kind: "error"; error: string };

function nextMessage(child: ChildProcess, kind: ChildMessage["kind"]): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.kind !== kind && message.kind !== "error") return;
      cleanup();
      if (message.kind === "error") reject(new Error(`bridge process: ${message.error}`));
      else resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`bridge process exited with ${code}`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export async function startBridgeProcess(options: {
  token: string;
  redisUrl: string;
  /** Default 0. Checked here too, so a bad value fails before a process is forked. */
  delayMs?: number;
}): Promise<BridgeProcess> {
  const delayMs = checkDelayMs(options.delayMs ?? 0);
  const child = fork(CHILD, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = nextMessage(child, "ready");
  child.send({ kind: "start", ...options, delayMs });
  const { url } = (await ready) as { url: string };
  let stopped = false;
  return {
    url,
    delayMs,
    async usage() {
      const answer = nextMessage(child, "usage");
      child.send({ kind: "usage" });
      return ((await answer) as { usage: BridgeUsage }).usage;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ kind: "stop" });
      await exited;
    },
  };
}
