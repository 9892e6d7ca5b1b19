/**
 * `npm start` end to end: the real CLI brings up redis-server, the bridge, the
 * origin, the CDN and SQS fakes, the Worker in workerd and, with varnishd, the two HTTP
 * caches around it; the Worker serves data read through the bridge, the front cache
 * answers MISS then HIT; the state file names what it printed, so the commands it suggests
 * (`npm run event`, then the cancel command that prints) work as shown on any port; a signal,
 * to start.ts or to npm, stops every process it started and closes every port.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRedisL2Store } from "../../../core/cache/l2-store";
import { createKeyspace } from "../../../core/keys";
import { DEFAULT_LOCAL_TOKEN } from "../../../dev/local/stack";
import { readStackState, STACK_STATE_ENV } from "../../../dev/local/stack-state";
import { findVarnishd } from "../../../dev/varnish/varnishd";
import { parseWorkerConfig } from "../../../workers/config";
import { runToEnd, type ScriptRun } from "../../support/run-script";

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

/** Whether something accepts connections on the host and port of `url` (http:// or redis://). */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** This environment without the variables that would point `npm run event` somewhere by themselves. */
function envWithoutStackSettings(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [STACK_STATE_ENV, "EVENTS_URL", "ORIGIN_URL", "EDGE_URL", "WEBHOOK_SECRET"])
    delete env[name];
  return env;
}

/**
 * Runs a command line exactly as printed, through the shell a user would paste it into. Not
 * spawnSync: the stack's output must keep draining meanwhile, or its writes would block it.
 */
function runAsPrinted(commandLine: string): Promise<ScriptRun> {
  return runToEnd(spawn("sh", ["-c", commandLine], { cwd: projectRoot, env: envWithoutStackSettings() }));
}

interface OutputLine {
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

/**
 * What the stack says: every line it prints (stdout: one `name: URL` line per service;
 * stderr with LOCAL_VERBOSE=1: the Worker's output and the event side's info lines), and
 * a promise for a line still to come. Tests wait on these instead of polling.
 */
function watchOutput(child: ChildProcessWithoutNullStreams) {
  const lines: OutputLine[] = [];
  const waiters = new Set<{
    matches: (line: OutputLine) => boolean;
    resolve: (line: OutputLine) => void;
    reject: (error: Error) => void;
  }>();
  const transcript = () => lines.map((line) => line.text).join("\n");
  for (const stream of ["stdout", "stderr"] as const) {
    let partial = "";
    child[stream].on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) {
        const line = { stream, text };
        lines.push(line);
        for (const waiter of waiters) {
          if (!waiter.matches(line)) continue;
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
  }
  child.once("exit", (code) => {
    for (const waiter of waiters)
      waiter.reject(new Error(`npm start exited early with ${code}:\n${transcript()}`));
    waiters.clear();
  });
  return {
    lines,
    /** The first line on `stream` matching `pattern`, printed already or still to come. */
    line(stream: OutputLine["stream"], pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
      const matches = (line: OutputLine) => line.stream === stream && pattern.test(line.text);
      const printed = lines.find(matches);
      if (printed) return Promise.resolve(printed.text);
      return new Promise((resolve, reject) => {
        // A bound on a wait for an event, not a poll: nothing is retried.
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`${what}: npm start printed no line matching ${pattern} in time:\n${transcript()}`),
          );
        }, timeoutMs);
        const waiter = {
          matches,
          resolve: (line: OutputLine) => {
            clearTimeout(timer);
            resolve(line.text);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.add(waiter);
      });
    },
  };
}

async function waitForServices(output: ReturnType<typeof watchOutput>, timeoutMs: number) {
  await output.line("stdout", /^edge: /, timeoutMs, "the edge line");
  const services = new Map<string, string>();
  for (const line of output.lines) {
    const match = line.stream === "stdout" ? /^([a-z-]+): (\S+)$/.exec(line.text) : null;
    if (match?.[1] && match[2]) services.set(match[1], match[2]);
  }
  return services;
}

/** Resolves on the next keyspace event for `key` (any write), from a subscription made before it. */
async function nextWriteTo(redisUrl: string, key: string) {
  const admin = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  await admin.config("SET", "notify-keyspace-events", "KA");
  const subscriber = admin.duplicate();
  const written = new Promise<void>((resolve) => subscriber.once("message", () => resolve()));
  await subscriber.subscribe(`__keyspace@0__:${key}`);
  return {
    written,
    /** Safe to call twice. */
    close() {
      admin.disconnect();
      subscriber.disconnect();
    },
  };
}

/** Without varnishd the stack runs without HTTP caches (and with CI=true it refuses to start). */
const varnishInstalled = findVarnishd() !== undefined;

describe("npm start (local stack)", () => {
  const cases: ReadonlyArray<{
    launcher: "node" | "npm";
    signal: NodeJS.Signals;
    gpuId: string;
    /** LOCAL_HTTP_CACHES: `auto` runs Varnish where it is installed. */
    httpCaches: "auto" | "none";
    /** Sends a booking and its cancellation with the commands the stack prints. */
    events: boolean;
  }> = [
    { launcher: "node", signal: "SIGINT", gpuId: "gpu-00011", httpCaches: "auto", events: true },
    { launcher: "node", signal: "SIGTERM", gpuId: "gpu-00012", httpCaches: "none", events: false },
    // A process manager stopping `npm start`, and `kill -INT` to npm's pid: npm passes both to its
    // child, which must be start.ts itself (a `sh -c` in between kept SIGINT to itself).
    { launcher: "npm", signal: "SIGTERM", gpuId: "gpu-00013", httpCaches: "auto", events: false },
    { launcher: "npm", signal: "SIGINT", gpuId: "gpu-00014", httpCaches: "none", events: false },
  ];

  it.for(cases)(
    "serves the edge API through the bridge and leaves no process behind ($launcher, $signal, http caches $httpCaches)",
    { timeout: 120_000 },
    async ({ launcher, signal, gpuId, httpCaches, events }) => {
      const withCaches = httpCaches === "auto" && varnishInstalled;
      const [command, args] =
        launcher === "npm"
          ? ["npm", ["start", "--silent"]]
          : [process.execPath, ["--import", "tsx", "dev/local/start.ts"]];
      // Its own state file, so a stack the user is running keeps theirs.
      const statePath = join(mkdtempSync(join(tmpdir(), "npm-start-")), "local-stack.json");
      const child = spawn(command, args, {
        cwd: projectRoot,
        env: {
          ...envWithoutStackSettings(),
          [STACK_STATE_ENV]: statePath,
          EDGE_PORT: "0",
          ORIGIN_PORT: "0",
          BRIDGE_PORT: "0",
          EVENTS_PORT: "0",
          WORKER_PORT: "0",
          ORIGIN_CACHE_PORT: "0",
          DASHBOARD_PORT: "0",
          // So the stack says when the deferred CloudFront purge is done (below).
          LOCAL_VERBOSE: "1",
          LOCAL_HTTP_CACHES: httpCaches,
        },
      });
      const output = watchOutput(child);
      // Every holder of the stack's stdout has exited: start.ts itself, after stopping its children.
      const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
      let fill: Awaited<ReturnType<typeof nextWriteTo>> | undefined;
      let spawned: number[] = [];
      try {
        const services = await waitForServices(output, 90_000);
        expect([...services.keys()]).toEqual([
          "redis",
          "redis-rest",
          "origin",
          ...(withCaches ? ["origin-cache"] : []),
          "cloudflare-fake",
          "cloudfront-fake",
          "sqs-fake",
          "events",
          ...(withCaches ? ["worker"] : []),
          "dashboard",
          "edge",
        ]);
        expect(services.get("redis")).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
        // The state file names what was printed, and the process that printed it: start.ts, npm's
        // own child when npm runs it.
        const state = readStackState(statePath);
        expect(state?.services.map(({ name, url }) => [name, url])).toEqual([...services]);
        expect(state?.urls).toMatchObject({
          edge: services.get("edge"),
          events: services.get("events"),
          origin: services.get("origin"),
        });
        if (launcher === "node") expect(state?.pid).toBe(child.pid);
        else {
          const stat = readFileSync(`/proc/${state?.pid}/stat`, "utf8");
          expect(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])).toBe(child.pid);
          expect(readFileSync(`/proc/${state?.pid}/cmdline`, "utf8").split("\0")).toContain(
            "dev/local/start.ts",
          );
        }
        // The hint names the real edge URL, and an event command that finds this stack by itself.
        const hint = await output.line("stderr", /^# try: /, 5_000, "the hint");
        const tryEvent = `${STACK_STATE_ENV}=${statePath} npm run event -- booking.created --gpu gpu-00001`;
        expect(hint).toBe(`# try: curl ${services.get("edge")}/v1/gpus/gpu-00001 ; ${tryEvent}`);
        if (!withCaches) {
          // One line says which tiers are missing, and why.
          const note = await output.line("stderr", /^http caches: none \(/, 5_000, "the http caches line");
          expect(note).toMatch(
            httpCaches === "none" ? /turned off/ : /varnishd not found: install varnish varnish-modules/,
          );
        }
        // The Worker itself: the edge URL is the front cache when there is one.
        const worker = services.get("worker") ?? services.get("edge") ?? "";
        // The purge-retry queue and its DLQ, with the redrive policy the deployed queue has.
        const queues = (await (await fetch(services.get("sqs-fake") ?? "")).json()) as Array<{
          name: string;
          redrivePolicy?: { deadLetterQueue: string; maxReceiveCount: number };
        }>;
        expect(queues.map((queue) => queue.name)).toEqual(["purge-retry", "purge-retry-dlq"]);
        expect(queues[0]?.redrivePolicy).toEqual({ deadLetterQueue: "purge-retry-dlq", maxReceiveCount: 5 });

        // Subscribed before the first request, so the Worker's fill cannot be missed.
        const gpuKey = createKeyspace().gpu(gpuId);
        fill = await nextWriteTo(services.get("redis") ?? "", gpuKey);
        const first = await fetch(`${worker}/v1/gpus/${gpuId}`);
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
        let stored = await l2.get(gpuKey);
        if (!stored) {
          await fill.written;
          stored = await l2.get(gpuKey);
        }
        fill.close();
        expect(stored?.body).toBe(text);
        const second = await fetch(`${worker}/v1/gpus/${gpuId}`);
        expect(second.headers.get("x-cache")).toBe("L1");
        expect(await second.text()).toBe(text);

        if (withCaches) {
          // The front cache (Workers Cache's role) answers clients: a MISS goes to the Worker, the
          // next read is its HIT (well within the class's CDN max-age, 1 s or more).
          const edge = services.get("edge") ?? "";
          expect(edge).not.toBe(worker);
          const edgeGpu = gpuId.replace("gpu-0001", "gpu-0002");
          const miss = await fetch(`${edge}/v1/gpus/${edgeGpu}`);
          const missText = await miss.text();
          const hit = await fetch(`${edge}/v1/gpus/${edgeGpu}`);
          expect([miss.status, miss.headers.get("cf-cache-status")]).toEqual([200, "MISS"]);
          expect(hit.headers.get("cf-cache-status")).toBe("HIT");
          expect(await hit.text()).toBe(missText);
          expect(hit.headers.has("cache-tag")).toBe(false);
          // The Worker answers directly, from the L1 the MISS filled, with no front cache status.
          const direct = await fetch(`${worker}/v1/gpus/${edgeGpu}`);
          expect(direct.headers.get("x-cache")).toBe("L1");
          expect(direct.headers.has("cf-cache-status")).toBe(false);
          expect(await direct.text()).toBe(missText);
          // The back cache (CloudFront's role) sits between the Worker and the origin.
          const originCache = await fetch(`${services.get("origin-cache")}/v1/gpus/${edgeGpu}`);
          expect(originCache.status).toBe(200);
          expect(originCache.headers.get("x-cache")).toMatch(/^(Hit|Miss) from cloudfront$/);
          await originCache.body?.cancel();
        }

        if (events) {
          // A booking reaches the edge within a second: the hint's command changes the origin and
          // sends the webhook, then watches the edge until it shows the change.
          const booked = "gpu-00001";
          const before = (await (await fetch(`${worker}/v1/gpus/${booked}`)).json()) as {
            status: string;
          };
          expect(before.status).toBe("available");
          // The Worker's last log read started no later than this request's answer.
          const lastEdgeRequestAt = Date.now();
          const sent = await runAsPrinted(tryEvent);
          expect(sent.code, `${sent.stdout}\n${sent.stderr}`).toBe(0);
          const sentLines = sent.stdout.split("\n");
          expect(sentLines).toContain(`events: 202 from ${services.get("events")}`);
          expect(sent.stdout).toMatch(/^ {2}booking\.created evt-\S+: applied, purge done$/m);
          expect(sent.stdout).toMatch(/^edge: \/v1\/gpus\/gpu-00001 shows "status":"busy" after \d+ ms$/m);
          const bookingId = /^booking: (\S+)$/m.exec(sent.stdout)?.[1] ?? "";
          const next = /^next: (.+)$/m.exec(sent.stdout)?.[1] ?? "";
          expect(next).toBe(
            `${STACK_STATE_ENV}=${statePath} npm run event -- booking.cancelled --booking ${bookingId}`,
          );
          // The Worker reads the invalidation log on the first request at least its sync interval
          // after the last read, and answers only after that read (core/cache/log-sync.ts
          // syncIfDue); the event was applied before send-event answered. So the first request
          // once the interval has passed must see it. workerd runs on real time, so this is the
          // one wait a manual clock cannot replace (send-event usually takes longer anyway).
          const { syncIntervalMs } = parseWorkerConfig({
            UPSTASH_REDIS_REST_URL: services.get("redis-rest"),
            UPSTASH_REDIS_REST_TOKEN: DEFAULT_LOCAL_TOKEN,
            ORIGIN_URL: services.get("origin"),
          });
          const untilSyncDue = lastEdgeRequestAt + syncIntervalMs + 1 - Date.now();
          if (untilSyncDue > 0) await new Promise((resolve) => setTimeout(resolve, untilSyncDue));
          const { status } = (await (await fetch(`${worker}/v1/gpus/${booked}`)).json()) as {
            status: string;
          };
          // How fast is for the benchmarks; here: it arrives, well before any TTL (gpu class: 30 s fresh).
          expect(status).toBe("busy");
          // The purges went through the real SDKs to the fakes, which recorded them.
          const cloudflare = (await (await fetch(services.get("cloudflare-fake") ?? "")).json()) as Array<{
            items: string[];
          }>;
          expect(cloudflare.flatMap((purge) => purge.items)).toContain(`gpu:${booked}`);
          // CloudFront is purged off the request path: the retry poller sends the deferred
          // invalidation, and the retry handler says so once CloudFront has accepted it.
          await output.line(
            "stderr",
            // The retry Lambda's structured line (lambdas/retry/handler.ts); a batch's CloudFront messages settle first.
            /^purge retry done\b/,
            10_000,
            "the deferred CloudFront purge",
          );
          const cloudfront = (await (await fetch(services.get("cloudfront-fake") ?? "")).json()) as Array<{
            paths: string[];
          }>;
          const invalidated = cloudfront.flatMap((invalidation) => invalidation.paths);
          expect(invalidated).toContain("/v1/gpus*");

          // The command the booking printed cancels it, and the edge shows the GPU free again.
          const cancelled = await runAsPrinted(next);
          expect(cancelled.code, `${cancelled.stdout}\n${cancelled.stderr}`).toBe(0);
          expect(cancelled.stdout).toMatch(/^ {2}booking\.cancelled evt-\S+: applied, purge done$/m);
          expect(cancelled.stdout).toMatch(
            /^edge: \/v1\/gpus\/gpu-00001 shows "status":"available" after \d+ ms$/m,
          );
        }

        spawned = descendants(child.pid ?? -1);
        // tsx's node, redis-server, wrangler (+ workerd), and each varnishd with its cache child.
        expect(spawned.length).toBeGreaterThanOrEqual(withCaches ? 7 : 3);
        child.kill(signal);
        // start.ts stops every child it started, then exits 0, and npm with it; its output closing is
        // the stack saying it is done.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const code = await Promise.race([
          closed,
          new Promise<"still running">((resolve) => {
            // A bound on a wait for an event: stopping takes a few seconds.
            timer = setTimeout(() => resolve("still running"), 30_000);
          }),
        ]);
        clearTimeout(timer);
        expect(code, `after ${signal}`).toBe(0);
        expect(spawned.filter(isAlive)).toEqual([]);
        expect(existsSync(statePath)).toBe(false);
        const stillListening = [];
        for (const [name, url] of services) if (await listening(url)) stillListening.push(name);
        expect(stillListening).toEqual([]);
        await expect(fetch(`${services.get("edge")}/v1/gpus/${gpuId}`)).rejects.toThrow();
      } finally {
        fill?.close();
        rmSync(dirname(statePath), { recursive: true, force: true });
        // A failed run must not leave its stack behind for the next one: found before npm goes,
        // while its children are still its own.
        const leftovers = new Set([
          ...spawned,
          ...(child.exitCode === null ? descendants(child.pid ?? -1) : []),
        ]);
        if (child.exitCode === null) child.kill("SIGKILL");
        for (const pid of [...leftovers].filter(isAlive)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // it ended meanwhile
          }
        }
      }
    },
  );
});
