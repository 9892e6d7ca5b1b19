/**
 * `npm start` end to end: the real CLI brings up redis-server, the bridge, the
 * origin, the CDN and SQS fakes and the Worker in workerd; the edge URL serves data
 * read through the bridge; a signal stops every process it started.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { createRedisL2Store } from "../../../core/cache/l2-store";
import { createKeyspace } from "../../../core/keys";
import type { L2Record } from "../../../core/read-model";
import { DEFAULT_LOCAL_TOKEN } from "../../../dev/local/stack";

const projectRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** Every process whose parent chain leads to `rootPid`, read from /proc. */
function descendants(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the command name, which is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const frontier = [rootPid];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return state.slice(state.lastIndexOf(")") + 2, state.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function waitForServices(
  child: ChildProcessWithoutNullStreams,
  timeoutMs: number,
): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const services = new Map<string, string>();
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no edge line in time:\n${stdout}\n${stderr}`)),
      timeoutMs,
    );
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const line of stdout.split("\n")) {
        const match = /^([a-z-]+): (\S+)$/.exec(line);
        if (match?.[1] && match[2]) services.set(match[1], match[2]);
      }
      if (services.has("edge")) {
        clearTimeout(timer);
        resolve(services);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited early with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

describe("npm start (local stack)", () => {
  const cases: ReadonlyArray<{ launcher: "node" | "npm"; signal: NodeJS.Signals; gpuId: string }> = [
    { launcher: "node", signal: "SIGINT", gpuId: "gpu-00011" },
    { launcher: "node", signal: "SIGTERM", gpuId: "gpu-00012" },
    // A process manager stopping `npm start`: npm's `sh -c` does not pass the signal on.
    { launcher: "npm", signal: "SIGTERM", gpuId: "gpu-00013" },
  ];

  it.for(cases)(
    "serves the edge API through the bridge and leaves no process behind ($launcher, $signal)",
    { timeout: 120_000 },
    async ({ launcher, signal, gpuId }) => {
      const [command, args] =
        launcher === "npm"
          ? ["npm", ["start", "--silent"]]
          : [process.execPath, ["--import", "tsx", "dev/local/start.ts"]];
      const child = spawn(command, args, {
        cwd: projectRoot,
        env: { ...process.env, EDGE_PORT: "0", ORIGIN_PORT: "0", BRIDGE_PORT: "0", EVENTS_PORT: "0" },
      });
      try {
        const services = await waitForServices(child, 90_000);
        expect([...services.keys()]).toEqual([
          "redis",
          "redis-rest",
          "origin",
          "cloudflare-fake",
          "cloudfront-fake",
          "sqs-fake",
          "events",
          "edge",
        ]);
        expect(services.get("redis")).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
        // The purge-retry queue and its DLQ, with the redrive policy the deployed queue has.
        const queues = (await (await fetch(services.get("sqs-fake") ?? "")).json()) as Array<{
          name: string;
          redrivePolicy?: { deadLetterQueue: string; maxReceiveCount: number };
        }>;
        expect(queues.map((queue) => queue.name)).toEqual(["purge-retry", "purge-retry-dlq"]);
        expect(queues[0]?.redrivePolicy).toEqual({ deadLetterQueue: "purge-retry-dlq", maxReceiveCount: 5 });

        const first = await fetch(`${services.get("edge")}/v1/gpus/${gpuId}`);
        expect(first.status).toBe(200);
        expect(first.headers.get("x-cache")).toBe("ORIGIN");
        const text = await first.text();
        expect((JSON.parse(text) as { gpuId: string }).gpuId).toBe(gpuId);

        // The Worker fills Redis after answering (waitUntil): read it back through the bridge.
        const redis = new Redis({
          url: services.get("redis-rest") ?? "",
          token: DEFAULT_LOCAL_TOKEN,
          automaticDeserialization: false,
        });
        const l2 = createRedisL2Store(redis, createKeyspace());
        let stored: L2Record | undefined;
        for (let attempt = 0; attempt < 50 && !stored; attempt++) {
          stored = await l2.get(createKeyspace().gpu(gpuId));
          if (!stored) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(stored?.body).toBe(text);
        const second = await fetch(`${services.get("edge")}/v1/gpus/${gpuId}`);
        expect(second.headers.get("x-cache")).toBe("L1");
        expect(await second.text()).toBe(text);

        if (signal === "SIGINT") {
          // A booking reaches the edge within a second: npm run event changes the origin and sends the webhook.
          const origin = services.get("origin") ?? "";
          const listing = (await (await fetch(`${origin}/v1/gpus?status=available&limit=1`)).json()) as {
            items: Array<{ gpuId: string }>;
          };
          const free = listing.items[0]?.gpuId ?? "";
          const before = (await (await fetch(`${services.get("edge")}/v1/gpus/${free}`)).json()) as {
            status: string;
          };
          expect(before.status).toBe("available");
          const sent = spawnSync(
            process.execPath,
            ["--import", "tsx", "dev/local/send-event.ts", "booking.created", "--gpu", free],
            {
              cwd: projectRoot,
              env: { ...process.env, EVENTS_URL: services.get("events"), ORIGIN_URL: origin },
              encoding: "utf8",
            },
          );
          const sentAt = Date.now();
          expect(sent.status, sent.stderr).toBe(0);
          expect(sent.stdout).toMatch(/^202 .*"status":"applied"/);
          let status = "available";
          while (status !== "busy" && Date.now() - sentAt < 3_000) {
            status = (
              (await (await fetch(`${services.get("edge")}/v1/gpus/${free}`)).json()) as { status: string }
            ).status;
          }
          // How fast is for the benchmarks; here: it arrives, well before any TTL (gpu class: 30 s fresh).
          expect(status).toBe("busy");
          // The purges went through the real SDKs to the fakes, which recorded them.
          const cloudflare = (await (await fetch(services.get("cloudflare-fake") ?? "")).json()) as Array<{
            items: string[];
          }>;
          expect(cloudflare.flatMap((purge) => purge.items)).toContain(`gpu:${free}`);
          // CloudFront is purged off the request path: the retry poller sends the deferred invalidation.
          let invalidated: string[] = [];
          for (
            const deadline = Date.now() + 5_000;
            !invalidated.includes("/v1/gpus*") && Date.now() < deadline;
          ) {
            const cloudfront = (await (await fetch(services.get("cloudfront-fake") ?? "")).json()) as Array<{
              paths: string[];
            }>;
            invalidated = cloudfront.flatMap((invalidation) => invalidation.paths);
            if (!invalidated.includes("/v1/gpus*")) await new Promise((resolve) => setTimeout(resolve, 100));
          }
          expect(invalidated).toContain("/v1/gpus*");
        }

        const spawned = descendants(child.pid ?? -1);
        expect(spawned.length).toBeGreaterThanOrEqual(3); // tsx's node, redis-server, wrangler (+ workerd)
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        child.kill(signal);
        const code = await exited;
        if (launcher === "node") expect(code).toBe(0);
        // workerd is reaped by the group kill; give the kernel a moment to reap.
        const deadline = Date.now() + 5_000;
        while (spawned.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(spawned.filter(isAlive)).toEqual([]);
        await expect(fetch(`${services.get("edge")}/v1/gpus/${gpuId}`)).rejects.toThrow();
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  );
});
