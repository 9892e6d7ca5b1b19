/**
 * npm run check:bundle — bundles the Worker offline exactly as `wrangler deploy` would
 * (`--dry-run`, production environment) and fails when it outgrows its budget. A large
 * bundle slows every cold start at every edge location.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** Raw and gzip limits in bytes; today's bundle is about 616 KiB raw and 140 KiB gzip. */
export const WORKER_BUNDLE_BUDGET = { rawBytes: 800 * 1024, gzipBytes: 200 * 1024 } as const;

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "worker-bundle-"));
try {
  execFileSync(
    `${projectRoot}node_modules/.bin/wrangler`,
    ["deploy", "--dry-run", "--outdir", outdir, "--env", "production"],
    {
      cwd: projectRoot,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const code = readFileSync(join(outdir, "index.js"));
  const raw = code.byteLength;
  const gzip = gzipSync(code).byteLength;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(
    `worker bundle: ${kib(raw)} raw (budget ${kib(WORKER_BUNDLE_BUDGET.rawBytes)}), ${kib(gzip)} gzip (budget ${kib(WORKER_BUNDLE_BUDGET.gzipBytes)})`,
  );
  if (raw > WORKER_BUNDLE_BUDGET.rawBytes || gzip > WORKER_BUNDLE_BUDGET.gzipBytes) {
    console.error("worker bundle: over budget");
    process.exitCode = 1;
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
