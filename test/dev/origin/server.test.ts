import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { gpuSchema, regionSchema } from "../../../core/domain";
import { CliUsageError, parseCliOptions } from "../../../dev/origin/cli-options";
import { startOriginServer } from "../../../dev/origin/server";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

describe("startOriginServer", () => {
  it("listens on a free port on 127.0.0.1, serves the API over HTTP and closes", async () => {
    const server = await startOriginServer({ port: 0, seed: 42 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.port).toBeGreaterThan(0);

      const regions = await fetch(`${server.url}/v1/regions`);
      expect(regions.status).toBe(200);
      expect(regions.headers.get("cache-control")).toBe(
        "public, max-age=300, s-maxage=3600, stale-if-error=86400",
      );
      const body = (await regions.json()) as { items: unknown[] };
      expect(body.items.map((item) => regionSchema.parse(item).regionId)).toContain("us-east");

      const gpu = await fetch(`${server.url}/v1/gpus/gpu-00001`);
      const etag = gpu.headers.get("etag") ?? "";
      expect(gpuSchema.parse(await gpu.json())).toEqual(server.store.getGpu("gpu-00001"));
      const revalidated = await fetch(`${server.url}/v1/gpus/gpu-00001`, {
        headers: { "If-None-Match": etag },
      });
      expect(revalidated.status).toBe(304);

      const counters = (await (await fetch(`${server.url}/_admin/counters`)).json()) as { requests: number };
      expect(counters.requests).toBe(3);
    } finally {
      await server.close();
    }
    await expect(fetch(`${server.url}/v1/regions`)).rejects.toThrow();
  });

  it("rejects when the port is taken", async () => {
    const first = await startOriginServer({ gpuCount: 10, providerCount: 2 });
    try {
      await expect(startOriginServer({ port: first.port, gpuCount: 10, providerCount: 2 })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.close();
    }
  });
});

describe("CLI options", () => {
  it("applies defaults and reads ORIGIN_PORT", () => {
    expect(parseCliOptions([])).toMatchObject({ port: 0, hostname: "127.0.0.1", seed: undefined });
    expect(parseCliOptions([], { ORIGIN_PORT: "8788" })?.port).toBe(8788);
    expect(parseCliOptions(["--port", "9000"], { ORIGIN_PORT: "8788" })?.port).toBe(9000);
    expect(parseCliOptions(["--port", "8788", "--seed", "7", "--latency-ms", "20"])).toMatchObject({
      port: 8788,
      seed: 7,
      latencyMs: 20,
    });
    expect(parseCliOptions(["--help"])).toBeNull();
  });

  it("throws CliUsageError naming the flag for bad input", () => {
    expect(() => parseCliOptions(["--bogus"])).toThrow(CliUsageError);
    expect(() => parseCliOptions(["--port", "abc"])).toThrow(/--port/);
    expect(() => parseCliOptions(["--port", "70000"])).toThrow(/--port/);
    expect(() => parseCliOptions(["--latency-ms", "-1"])).toThrow(/--latency-ms/);
    expect(() => parseCliOptions(["--seed", "1.5"])).toThrow(/--seed/);
    expect(() => parseCliOptions([], { ORIGIN_PORT: "nope" })).toThrow(/ORIGIN_PORT/);
    expect(() => parseCliOptions(["stray"])).toThrow(CliUsageError);
  });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `dev/origin/cli.ts` in one Node process (tsx as a loader, so signals reach the CLI itself). */
function runCli(args: string[], onLine?: (line: string, stop: () => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "dev/origin/cli.ts", ...args], {
      cwd: repoRoot,
      env: { ...process.env, ORIGIN_PORT: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (onLine && stdout.includes("\n")) onLine(stdout.split("\n")[0] ?? "", () => child.kill("SIGTERM"));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("origin CLI", () => {
  it("exits 2 with one clear error line for a bad flag", async () => {
    const run = await runCli(["--bogus"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("--bogus");
  }, 30_000);

  it("prints exactly one line with its URL, serves, and stops cleanly on SIGTERM", async () => {
    let served: number | undefined;
    let stopping = false;
    const run = await runCli(["--port", "0", "--seed", "42", "--gpu-count", "40"], (line, stop) => {
      if (stopping) return;
      stopping = true;
      const url = /^origin: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
      if (!url) {
        stop();
        return;
      }
      fetch(`${url}/v1/gpus?limit=500`)
        .then(async (response) => {
          served = ((await response.json()) as { total: number }).total;
        })
        .finally(stop);
    });
    expect(run.stdout).toMatch(/^origin: http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(served).toBe(40);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
  }, 30_000);
});
