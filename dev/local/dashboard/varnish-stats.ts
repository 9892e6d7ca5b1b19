/**
 * A Varnish cache's hit and miss counters, read with `varnishstat -j -n <workdir>` from the
 * shared memory of the varnishd the stack started (dev/varnish/varnishd.ts owns the work
 * directory). A counter moves when a worker thread publishes its statistics, so a request may
 * show up a moment after it was answered.
 */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import type { VarnishTier } from "./snapshot-types";

const run = promisify(execFile);

export class VarnishStatsError extends Error {
  override readonly name = "VarnishStatsError";
}

const FIELDS = {
  clientRequests: "MAIN.client_req",
  hits: "MAIN.cache_hit",
  misses: "MAIN.cache_miss",
  hitPass: "MAIN.cache_hitpass",
  hitMiss: "MAIN.cache_hitmiss",
} as const satisfies Record<keyof VarnishTier, string>;

const counter = z.object({ value: z.number() });
/** Varnish 6.5+ nests the counters under `counters`; older ones put them at the top level. */
const varnishstatJson = z.union([
  z.object({ counters: z.record(z.string(), counter) }),
  z.record(z.string(), z.unknown()).transform((top) => ({ counters: top })),
]);

/** varnishstat on PATH, or beside Debian's varnishd; undefined when there is none. */
export function findVarnishstat(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of [...(env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"]) {
    if (!dir) continue;
    try {
      accessSync(join(dir, "varnishstat"), constants.X_OK);
      return join(dir, "varnishstat");
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The counters of the varnishd whose `-n` is `workDir`. */
export async function readVarnishCounters(
  binary: string,
  workDir: string,
  timeoutMs = 900,
): Promise<VarnishTier> {
  const filters = Object.values(FIELDS).flatMap((field) => ["-f", field]);
  let stdout: string;
  try {
    ({ stdout } = await run(binary, ["-j", "-t", "1", "-n", workDir, ...filters], { timeout: timeoutMs }));
  } catch (error) {
    throw new VarnishStatsError(`varnishstat -n ${workDir} failed: ${(error as Error).message.trim()}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new VarnishStatsError("varnishstat -j printed something other than JSON");
  }
  const parsed = varnishstatJson.safeParse(json);
  if (!parsed.success) throw new VarnishStatsError("varnishstat -j printed an unexpected shape");
  const { counters } = parsed.data;
  const read = (field: string): number => {
    const value = counter.safeParse(counters[field]);
    if (!value.success) throw new VarnishStatsError(`varnishstat -j printed no ${field}`);
    return value.data.value;
  };
  return {
    clientRequests: read(FIELDS.clientRequests),
    hits: read(FIELDS.hits),
    misses: read(FIELDS.misses),
    hitPass: read(FIELDS.hitPass),
    hitMiss: read(FIELDS.hitMiss),
  };
}
