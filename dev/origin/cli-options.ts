/**
 * Command-line options of `npm run origin`, parsed apart from the entry point so the rules
 * (defaults, env fallbacks, ranges) can be tested without starting a process.
 */
import { parseArgs } from "node:util";
import type { OriginServerOptions } from "./server";

export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

export const USAGE =
  "usage: npm run origin -- [--port N] [--hostname H] [--seed N] [--gpu-count N] [--provider-count N] " +
  "[--latency-ms N] [--admin-token T]";

function integerOption(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    throw new CliUsageError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Returns null when help was asked for. Env: ORIGIN_PORT (port default), ORIGIN_ADMIN_TOKEN. */
export function parseCliOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): OriginServerOptions | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        seed: { type: "string" },
        "gpu-count": { type: "string" },
        "provider-count": { type: "string" },
        "latency-ms": { type: "string" },
        "admin-token": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  if (values.help) return null;
  const text = (name: string) => values[name] as string | undefined;

  const port =
    text("port") !== undefined
      ? integerOption("port", text("port"), 0, 65_535)
      : env.ORIGIN_PORT
        ? integerOption("port (from ORIGIN_PORT)", env.ORIGIN_PORT, 0, 65_535)
        : 0;
  const hostname = text("hostname");
  if (hostname !== undefined && hostname.trim() === "")
    throw new CliUsageError("--hostname must not be empty");
  const adminToken = text("admin-token") ?? (env.ORIGIN_ADMIN_TOKEN || undefined);

  return {
    port,
    hostname: hostname ?? "127.0.0.1",
    seed: integerOption("seed", text("seed"), 0, 0xffff_ffff),
    gpuCount: integerOption("gpu-count", text("gpu-count"), 0, 100_000),
    providerCount: integerOption("provider-count", text("provider-count"), 1, 10_000),
    latencyMs: integerOption("latency-ms", text("latency-ms"), 0, 60_000),
    adminToken,
  };
}
