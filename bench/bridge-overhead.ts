/**
 * npm run bench:bridge [-- --commands 10000 --concurrency 1,64]
 *
 * The bridge's overhead: N GET commands through @upstash/redis → bridge → Redis
 * versus ioredis → the same Redis directly, measured side by side in one run
 * (compare the ratio; absolute times on a shared machine are noise).
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IoRedis } from "ioredis";
import { startRedisServer, stopChild } from "../dev/local/redis-server";

const { values } = parseArgs({
  options: {
    commands: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "1,64" },
  },
});
const commands = Number(values.commands);
const concurrencies = String(values.concurrency).split(",").map(Number);
if (
  !Number.isInteger(commands) ||
  commands <= 0 ||
  concurrencies.some((n) => !Number.isInteger(n) || n <= 0)
) {
  console.error("bench:bridge: --commands and --concurrency must be positive integers");
  process.exit(2);
}

async function timed(concurrency: number, get: (key: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < commands) {
        const index = next++;
        await get(`bench:key:${index % 100}`);
      }
    }),
  );
  return performance.now() - started;
}

/** The bridge runs in a process of its own, as in use, so the client's CPU is not charged to it. */
async function startBridgeProcess(redisUrl: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "dev/bridge/cli.ts", "--port", "0", "--redis-url", redisUrl, "--token", "bench"],
    { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^redis-rest: (\S+)$/m.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`bridge exited with ${code}: ${output}`)));
  });
  return { url, pid: child.pid ?? -1, stop: () => stopChild(child) };
}

/** CPU time (ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const redis = await startRedisServer();
const bridge = await startBridgeProcess(redis.url);
const direct = new IoRedis(redis.url);
const viaBridge = new UpstashRedis({ url: bridge.url, token: "bench", enableAutoPipelining: false });
try {
  for (let index = 0; index < 100; index++)
    await direct.set(`bench:key:${index}`, JSON.stringify({ index, pad: "x".repeat(200) }));
  // Warm both paths (JIT, sockets) before measuring.
  await timed(8, (key) => direct.get(key));
  await timed(8, (key) => viaBridge.get(key));

  console.log(`GET x ${commands}, redis-server ${redis.url}, Node ${process.version}`);
  console.log(
    "| in flight | ioredis direct ops/s | @upstash/redis via bridge ops/s | bridge / direct time | client CPU µs/op | bridge CPU µs/op |",
  );
  console.log("|---|---|---|---|---|---|");
  const perSecond = (ms: number) => Math.round((commands / ms) * 1000);
  const perOp = (ms: number) => Math.round((ms * 1000) / commands);
  for (const concurrency of concurrencies) {
    // Direct runs before and after the bridge run, so neither path always gets the warmer machine.
    const directBefore = await timed(concurrency, (key) => direct.get(key));
    const clientCpu = process.cpuUsage();
    const bridgeCpu = processCpuMs(bridge.pid);
    const bridgeMs = await timed(concurrency, (key) => viaBridge.get(key));
    const clientCpuUsed = process.cpuUsage(clientCpu);
    const clientCpuMs = (clientCpuUsed.user + clientCpuUsed.system) / 1000;
    const bridgeCpuMs = processCpuMs(bridge.pid) - bridgeCpu;
    const directAfter = await timed(concurrency, (key) => direct.get(key));
    const directMs = (directBefore + directAfter) / 2;
    console.log(
      `| ${concurrency} | ${perSecond(directMs)} | ${perSecond(bridgeMs)} | ${(bridgeMs / directMs).toFixed(2)}x | ${perOp(clientCpuMs)} | ${perOp(bridgeCpuMs)} |`,
    );
  }
} finally {
  direct.disconnect();
  await bridge.stop();
  await redis.stop();
}
